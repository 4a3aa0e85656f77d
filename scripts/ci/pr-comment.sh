#!/usr/bin/env bash
# Posts a Markdown file as a pull request comment, or updates the comment
# this script posted before under the same key, so each push refreshes one
# comment instead of adding another. Uses the GitHub CLI (GH_TOKEN, GITHUB_REPOSITORY).
#
# Usage: scripts/ci/pr-comment.sh KEY PR_NUMBER MARKDOWN_FILE   (KEY: plan, charts, ...)
set -euo pipefail

KEY="${1:?usage: $0 KEY PR_NUMBER MARKDOWN_FILE}"
PR="${2:?usage: $0 KEY PR_NUMBER MARKDOWN_FILE}"
FILE="${3:?usage: $0 KEY PR_NUMBER MARKDOWN_FILE}"
: "${GITHUB_REPOSITORY:?GITHUB_REPOSITORY must be set (owner/name)}"
[[ "$KEY" =~ ^[a-z0-9-]+$ ]] || { echo "pr-comment: KEY must be lowercase letters, digits and hyphens, got $KEY" >&2; exit 2; }
[[ "$PR" =~ ^[0-9]+$ ]] || { echo "pr-comment: PR_NUMBER must be a number, got $PR" >&2; exit 2; }
[[ -f "$FILE" ]] || { echo "pr-comment: $FILE not found" >&2; exit 2; }

marker="<!-- comfyui-eks:$KEY -->"
body="$marker"$'\n'"$(cat "$FILE")"
existing="$(gh api --paginate "repos/$GITHUB_REPOSITORY/issues/$PR/comments" \
  --jq ".[] | select(.user.type == \"Bot\" and (.body | startswith(\"$marker\"))) | .id" | tail -n1)"
if [[ -n "$existing" ]]; then
  gh api --method PATCH "repos/$GITHUB_REPOSITORY/issues/comments/$existing" -f body="$body" >/dev/null
  echo "pr-comment: updated comment $existing on #$PR"
else
  gh api --method POST "repos/$GITHUB_REPOSITORY/issues/$PR/comments" -f body="$body" >/dev/null
  echo "pr-comment: commented on #$PR"
fi
