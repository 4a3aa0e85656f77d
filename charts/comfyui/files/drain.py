"""preStop hook of the ComfyUI container: lets ComfyUI finish its queue.

Kubernetes first takes the terminating pod out of the Service endpoints (the
load balancer controller then deregisters it from the target group), so new
prompts stop arriving after a few seconds. This hook then waits until the
queue has neither a running nor a pending prompt, so a generation in flight is
not cut off. terminationGracePeriodSeconds bounds the wait.
"""
import json
import os
import sys
import time
import urllib.request

QUEUE_URL = f"http://127.0.0.1:{os.environ.get('COMFYUI_PORT', '8188')}/queue"
POLL_SECONDS = float(os.environ.get("DRAIN_POLL_SECONDS", "5"))
# Time for the endpoint removal to reach the load balancer.
time.sleep(int(os.environ.get("DRAIN_SETTLE_SECONDS", "15")))

while True:
    try:
        with urllib.request.urlopen(QUEUE_URL, timeout=5) as response:
            queue = json.load(response)
    except Exception as error:  # ComfyUI already gone or hung: nothing to wait for
        print(f"drain: cannot read {QUEUE_URL} ({error}); stopping now", file=sys.stderr)
        break
    running = len(queue.get("queue_running", []))
    pending = len(queue.get("queue_pending", []))
    if running == 0 and pending == 0:
        print("drain: queue empty; stopping", flush=True)
        break
    print(f"drain: waiting for {running} running and {pending} pending prompts", flush=True)
    time.sleep(POLL_SECONDS)
