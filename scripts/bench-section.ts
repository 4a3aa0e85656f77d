/**
 * Replaces one benchmark's section of docs/benchmarks.md (between its start
 * and end markers) and keeps the rest; appends the section when it is new.
 */
import { existsSync, readFileSync, writeFileSync } from 'fs';

export function writeBenchSection(doc: string, start: string, end: string, text: string): void {
  const section = `${start}\n${text}${end}\n`;
  const current = existsSync(doc) ? readFileSync(doc, 'utf8') : '# Benchmarks\n\n';
  const [before, rest] = current.includes(start) ? current.split(start) : [current.replace(/\n*$/, '\n\n'), end];
  writeFileSync(doc, before + section + (rest.split(end)[1] ?? '').replace(/^\n/, ''));
}
