"""Queue-depth publisher: a native sidecar of the ComfyUI pod.

Reads the local ComfyUI GET /queue every QUEUE_METRICS_INTERVAL_SECONDS and
publishes to CloudWatch namespace ComfyUI/Serving (the metric contract in
docs/operations.md "Scaling"):

- QueueRunning, QueuePending with dimensions {ClusterName, Pod} every interval
  (dashboards break down by pod);
- the same two with {ClusterName} once per minute, with the timestamp of the
  minute and the highest value seen during it, so the Sum statistic over a
  60 s period is the queue summed over all replicas (each replica contributes
  one datapoint per minute). KEDA's queue-depth trigger reads that sum;
- PromptDurationSeconds {ClusterName} for each prompt that leaves the
  running queue (from ComfyUI's history timestamps when present).

AWS requests are signed with SigV4 using the pod's EKS Pod Identity
credentials (AWS_CONTAINER_CREDENTIALS_FULL_URI + the token file the Pod
Identity webhook mounts); standard library only, so the ComfyUI image runs it
as is. CloudWatch failures are logged and retried at the next interval; they
never affect ComfyUI.
"""
import datetime
import hashlib
import hmac
import json
import os
import sys
import time
import urllib.parse
import urllib.request

NAMESPACE = "ComfyUI/Serving"  # contract: docs CloudWatch metric contract (ComfyUI/Serving)
PORT = os.environ.get("COMFYUI_PORT", "8188")
COMFYUI = os.environ.get("COMFYUI_URL", f"http://127.0.0.1:{PORT}")
CLUSTER = os.environ["CLUSTER_NAME"]
POD = os.environ.get("POD_NAME", os.environ.get("HOSTNAME", "unknown"))
REGION = os.environ["AWS_REGION"]
ENDPOINT = os.environ.get("CLOUDWATCH_ENDPOINT", f"https://monitoring.{REGION}.amazonaws.com/")
INTERVAL = float(os.environ.get("QUEUE_METRICS_INTERVAL_SECONDS", "10"))
ITERATIONS = int(os.environ.get("QUEUE_METRICS_ITERATIONS", "0"))  # 0: forever (tests set a count)
# Period of the aggregate series: one datapoint per replica per period (KEDA reads 60 s sums).
AGGREGATE_SECONDS = int(os.environ.get("QUEUE_METRICS_AGGREGATE_SECONDS", "60"))


def log(message):
    print(f"queue-metrics: {message}", file=sys.stderr, flush=True)


def get_json(url, headers=None, timeout=5):
    request = urllib.request.Request(url, headers=headers or {})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.load(response)


class Credentials:
    """Pod Identity container credentials, refreshed 5 minutes before they expire."""

    def __init__(self):
        self.value = None
        self.expires = 0.0

    def get(self):
        if self.value and time.time() < self.expires - 300:
            return self.value
        uri = os.environ["AWS_CONTAINER_CREDENTIALS_FULL_URI"]
        with open(os.environ["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"], encoding="utf-8") as handle:
            token = handle.read().strip()
        data = get_json(uri, {"Authorization": token})
        self.value = (data["AccessKeyId"], data["SecretAccessKey"], data.get("Token"))
        expiration = data.get("Expiration", "")
        try:
            self.expires = datetime.datetime.fromisoformat(expiration.replace("Z", "+00:00")).timestamp()
        except ValueError:
            self.expires = time.time() + 900
        return self.value


def _hmac(key, text):
    return hmac.new(key, text.encode("utf-8"), hashlib.sha256).digest()


def signed_post(url, body, credentials, now):
    """A SigV4-signed POST of a form body to CloudWatch (service 'monitoring')."""
    access_key, secret_key, session_token = credentials
    parsed = urllib.parse.urlsplit(url)
    amz_date = now.strftime("%Y%m%dT%H%M%SZ")
    day = amz_date[:8]
    headers = {"content-type": "application/x-www-form-urlencoded; charset=utf-8", "host": parsed.netloc, "x-amz-date": amz_date}
    if session_token:
        headers["x-amz-security-token"] = session_token
    names = sorted(headers)
    canonical = "\n".join([
        "POST",
        parsed.path or "/",
        "",
        "".join(f"{name}:{headers[name]}\n" for name in names),
        ";".join(names),
        hashlib.sha256(body).hexdigest(),
    ])
    scope = f"{day}/{REGION}/monitoring/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode("utf-8")).hexdigest()])
    key = _hmac(_hmac(_hmac(_hmac(("AWS4" + secret_key).encode("utf-8"), day), REGION), "monitoring"), "aws4_request")
    signature = hmac.new(key, to_sign.encode("utf-8"), hashlib.sha256).hexdigest()
    headers["authorization"] = f"AWS4-HMAC-SHA256 Credential={access_key}/{scope}, SignedHeaders={';'.join(names)}, Signature={signature}"
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        response.read()


def put_metric_data(datums, credentials, now):
    """PutMetricData (query API); datums: (name, unit, value, dimensions, timestamp)."""
    for start in range(0, len(datums), 20):
        params = {"Action": "PutMetricData", "Version": "2010-08-01", "Namespace": NAMESPACE}
        for i, (name, unit, value, dimensions, timestamp) in enumerate(datums[start:start + 20], 1):
            prefix = f"MetricData.member.{i}"
            params[f"{prefix}.MetricName"] = name
            params[f"{prefix}.Unit"] = unit
            params[f"{prefix}.Value"] = repr(float(value))
            params[f"{prefix}.Timestamp"] = timestamp.strftime("%Y-%m-%dT%H:%M:%SZ")
            for j, (key, dim_value) in enumerate(dimensions, 1):
                params[f"{prefix}.Dimensions.member.{j}.Name"] = key
                params[f"{prefix}.Dimensions.member.{j}.Value"] = dim_value
        signed_post(ENDPOINT, urllib.parse.urlencode(params).encode("utf-8"), credentials, now)


def prompt_ids(entries):
    """ComfyUI queue entries are [number, prompt_id, prompt, extra, outputs]."""
    return {entry[1] for entry in entries if isinstance(entry, list) and len(entry) > 1}


def history_duration(prompt_id):
    """Seconds from execution_start to the end message in /history, or None."""
    try:
        entry = get_json(f"{COMFYUI}/history/{urllib.parse.quote(prompt_id)}").get(prompt_id, {})
    except Exception:  # noqa: BLE001 - history is best effort
        return None
    stamps = {}
    for message in entry.get("status", {}).get("messages", []):
        if isinstance(message, list) and len(message) == 2 and isinstance(message[1], dict) and "timestamp" in message[1]:
            stamps[message[0]] = message[1]["timestamp"]
    end = stamps.get("execution_success", stamps.get("execution_error", stamps.get("execution_interrupted")))
    if "execution_start" in stamps and end is not None:
        return max(0.0, (end - stamps["execution_start"]) / 1000.0)
    return None


def main():
    credentials = Credentials()
    per_pod = [("ClusterName", CLUSTER), ("Pod", POD)]
    aggregate = [("ClusterName", CLUSTER)]
    minute = None
    peak = {"QueueRunning": 0, "QueuePending": 0}
    running_since = {}
    pending = []  # datums not yet sent (kept across a CloudWatch failure, bounded)
    iteration = 0
    while ITERATIONS == 0 or iteration < ITERATIONS:
        iteration += 1
        now = datetime.datetime.now(datetime.timezone.utc)
        try:
            queue = get_json(f"{COMFYUI}/queue")
            running_ids = prompt_ids(queue.get("queue_running", []))
            counts = {"QueueRunning": len(queue.get("queue_running", [])), "QueuePending": len(queue.get("queue_pending", []))}
        except Exception as error:  # noqa: BLE001 - ComfyUI starting or stopping
            log(f"cannot read {COMFYUI}/queue ({error})")
            counts = None
        if counts is not None:
            for name, value in counts.items():
                pending.append((name, "Count", value, per_pod, now))
            for prompt_id in running_ids - running_since.keys():
                running_since[prompt_id] = time.time()
            for prompt_id in list(running_since.keys() - running_ids):
                seconds = history_duration(prompt_id)
                if seconds is None:
                    seconds = time.time() - running_since[prompt_id]
                del running_since[prompt_id]
                pending.append(("PromptDurationSeconds", "Seconds", seconds, aggregate, now))
            epoch = int(now.timestamp())
            bucket = datetime.datetime.fromtimestamp(epoch - epoch % AGGREGATE_SECONDS, datetime.timezone.utc)
            if minute is not None and bucket != minute:
                for name, value in peak.items():
                    pending.append((name, "Count", value, aggregate, minute))
                peak = dict(counts)
            else:
                peak = {name: max(peak[name], value) for name, value in counts.items()}
            minute = bucket
        if pending:
            try:
                put_metric_data(pending, credentials.get(), now)
                pending = []
            except Exception as error:  # noqa: BLE001 - retried next time
                log(f"PutMetricData failed ({error}); {len(pending)} datapoints kept")
                pending = pending[-200:]
        time.sleep(INTERVAL)


if __name__ == "__main__":
    main()
