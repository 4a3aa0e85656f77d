{{/*
Names, labels and small computed values shared by the templates.
*/}}

{{/* Chart name, overridable with nameOverride. */}}
{{- define "comfyui.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Full name used as the object name prefix: <release>-<chart>, or just the
release name when it already contains the chart name. 52 characters leave
room for the suffixes below (-outputs, -scripts, ...) within 63.
*/}}
{{- define "comfyui.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 52 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 52 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 52 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* chart label value: <name>-<version>. */}}
{{- define "comfyui.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels that select the pods (stable across upgrades). */}}
{{- define "comfyui.selectorLabels" -}}
app.kubernetes.io/name: {{ include "comfyui.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* Labels of every object. */}}
{{- define "comfyui.labels" -}}
helm.sh/chart: {{ include "comfyui.chart" . }}
{{ include "comfyui.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | quote }}
app.kubernetes.io/component: comfyui
app.kubernetes.io/part-of: comfyui-eks
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* Security context of every container: non-root, no privileges, no capabilities. */}}
{{- define "comfyui.containerSecurityContext" -}}
runAsNonRoot: true
allowPrivilegeEscalation: false
privileged: false
readOnlyRootFilesystem: {{ .Values.containerSecurityContext.readOnlyRootFilesystem }}
capabilities:
  drop: ["ALL"]
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/*
Resources of one container. Every container of the chart renders its
resources through this helper, so none lacks an ephemeral-storage limit
(the chart tests check every container of every case). Takes a dict:
cpu, memory, ephemeralStorage (request), ephemeralStorageLimit (default: the
request), gpu (optional).
*/}}
{{- define "comfyui.resources" -}}
{{- $ephemeral := required "comfyui.resources: ephemeralStorage is required for every container" .ephemeralStorage }}
requests:
  cpu: {{ .cpu | quote }}
  memory: {{ .memory }}
  ephemeral-storage: {{ $ephemeral }}
  {{- with .gpu }}
  nvidia.com/gpu: {{ . }}
  {{- end }}
limits:
  memory: {{ .memory }}
  ephemeral-storage: {{ default $ephemeral .ephemeralStorageLimit }}
  {{- with .gpu }}
  nvidia.com/gpu: {{ . }}
  {{- end }}
{{- end }}

{{/* Service account name. */}}
{{- define "comfyui.serviceAccountName" -}}
{{- .Values.serviceAccount.name }}
{{- end }}

{{/* repository:tag, or repository@digest when a digest is given. */}}
{{- define "comfyui.imageRef" -}}
{{- if .digest }}
{{- printf "%s@%s" .repository .digest }}
{{- else }}
{{- printf "%s:%s" .repository .tag }}
{{- end }}
{{- end }}

{{/*
PersistentVolumes are cluster-scoped: their names carry the namespace so two
releases in different namespaces never collide. The volumeHandle must be
unique in the cluster too, so it is the PV name.
*/}}
{{- define "comfyui.pvName" -}}
{{- printf "%s-%s-%s" .root.Release.Namespace (include "comfyui.fullname" .root) .bucket | trunc 253 }}
{{- end }}

{{/* PVC name of a bucket mount. */}}
{{- define "comfyui.pvcName" -}}
{{- printf "%s-%s" (include "comfyui.fullname" .root) .bucket }}
{{- end }}

{{/* Name of the ConfigMap holding the scripts and extra_model_paths.yaml. */}}
{{- define "comfyui.configName" -}}
{{- printf "%s-config" (include "comfyui.fullname" .) }}
{{- end }}

{{/* Where the ConfigMap is mounted in the containers. */}}
{{- define "comfyui.configMountPath" -}}
/etc/comfyui
{{- end }}

{{/* Readiness marker path inside the container (models mounted at models.mountPath). */}}
{{- define "comfyui.readinessMarker" -}}
{{- printf "%s/%s" (trimSuffix "/" .Values.models.mountPath) .Values.models.readinessMarker }}
{{- end }}

{{/*
Checks the values the schema cannot express (relations between fields).
Each failure names the field and the reason.
*/}}
{{- define "comfyui.validate" -}}
{{- if ne (int .Values.s3.uid) (int .Values.podSecurityContext.runAsUser) }}
{{- fail (printf "s3.uid (%d) must equal podSecurityContext.runAsUser (%d): Mountpoint presents the bucket's files as owned by s3.uid, and ComfyUI runs as runAsUser" (int .Values.s3.uid) (int .Values.podSecurityContext.runAsUser)) }}
{{- end }}
{{- if ne (int .Values.s3.gid) (int .Values.podSecurityContext.runAsGroup) }}
{{- fail (printf "s3.gid (%d) must equal podSecurityContext.runAsGroup (%d)" (int .Values.s3.gid) (int .Values.podSecurityContext.runAsGroup)) }}
{{- end }}
{{- $a := .Values.autoscaling }}
{{- if and (or $a.enabled (eq $a.mode "keda")) (gt (int $a.minReplicas) (int $a.maxReplicas)) }}
{{- fail (printf "autoscaling.minReplicas (%d) must be <= autoscaling.maxReplicas (%d)" (int $a.minReplicas) (int $a.maxReplicas)) }}
{{- end }}
{{- if and (eq $a.mode "keda") $a.enabled }}
{{- fail "autoscaling.enabled: the HorizontalPodAutoscaler belongs to autoscaling.mode manual; in mode keda the ScaledObject owns the replicas (set mode: manual to use it)" }}
{{- end }}
{{- if and (eq $a.mode "manual") $a.enabled (lt (int $a.minReplicas) 1) }}
{{- fail (printf "autoscaling.minReplicas (%d) must be at least 1 for the HorizontalPodAutoscaler of mode manual (only mode keda scales to zero)" (int $a.minReplicas)) }}
{{- end }}
{{- if and (eq $a.mode "keda") (not .Values.queueMetrics.enabled) }}
{{- fail "queueMetrics.enabled: must be true in autoscaling.mode keda (the queue-depth trigger reads what the sidecar publishes)" }}
{{- end }}
{{- if and .Values.queueMetrics.enabled (or (eq $a.keda.clusterName "") (eq $a.keda.region "")) }}
{{- fail "queueMetrics.enabled: needs autoscaling.keda.clusterName and autoscaling.keda.region (the metric dimension and the CloudWatch region; make values writes both)" }}
{{- end }}
{{- range $i, $w := $a.warmSchedules }}
{{- if gt (int $w.minReplicas) (int $a.maxReplicas) }}
{{- fail (printf "autoscaling.warmSchedules[%d].minReplicas (%d) must be <= autoscaling.maxReplicas (%d)" $i (int $w.minReplicas) (int $a.maxReplicas)) }}
{{- end }}
{{- end }}
{{- $mounts := list .Values.models.mountPath .Values.s3.outputs.mountPath .Values.scratch.mountPath (include "comfyui.configMountPath" .) }}
{{- if .Values.s3.inputs.enabled }}{{ $mounts = append $mounts .Values.s3.inputs.mountPath }}{{ end }}
{{- if .Values.jobs.enabled }}
{{- if ge (int .Values.jobs.heartbeatSeconds) (int .Values.jobs.visibilitySeconds) }}
{{- fail (printf "jobs.heartbeatSeconds (%d) must be below jobs.visibilitySeconds (%d): the worker renews the lease every heartbeat" (int .Values.jobs.heartbeatSeconds) (int .Values.jobs.visibilitySeconds)) }}
{{- end }}
{{- if ge (int .Values.jobs.handBackAfterSeconds) (int .Values.terminationGracePeriodSeconds) }}
{{- fail (printf "jobs.handBackAfterSeconds (%d) must be below terminationGracePeriodSeconds (%d): the running job is handed back before the pod is killed" (int .Values.jobs.handBackAfterSeconds) (int .Values.terminationGracePeriodSeconds)) }}
{{- end }}
{{- end }}
{{- if ne (len $mounts) (len (uniq $mounts)) }}
{{- fail (printf "models.mountPath, s3.outputs.mountPath, s3.inputs.mountPath and scratch.mountPath must differ (and not be %s), got %s" (include "comfyui.configMountPath" .) (join ", " $mounts)) }}
{{- end }}
{{- end }}
