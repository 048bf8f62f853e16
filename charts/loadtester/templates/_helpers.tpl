{{/* Chart name and version, for the helm.sh/chart label. */}}
{{- define "fledge-loadtester.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Name of the chart, or nameOverride. */}}
{{- define "fledge-loadtester.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
Fully qualified name, Flagger's rule with Flagger's chart name "loadtester" (not this chart's
name), so that a release keeps the Service name it had with Flagger's chart: fullnameOverride,
else the release name when it contains "loadtester" (or nameOverride), else <release>-loadtester.
`helm install flagger-loadtester` → flagger-loadtester; `helm install fledge-loadtester` →
fledge-loadtester; `helm install lt` → lt-loadtester.
*/}}
{{- define "fledge-loadtester.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default "loadtester" .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* The Secret holding the bearer token: auth.tokenSecret, else the generated one (auth.createSecret). */}}
{{- define "fledge-loadtester.tokenSecret" -}}
{{- if .Values.auth.tokenSecret -}}
{{- .Values.auth.tokenSecret -}}
{{- else if .Values.auth.createSecret -}}
{{- printf "%s-token" (include "fledge-loadtester.fullname" . | trunc 57 | trimSuffix "-") -}}
{{- end -}}
{{- end -}}

{{/* Name of the service account: Flagger's serviceAccountName, else the one created or named here. */}}
{{- define "fledge-loadtester.serviceAccountName" -}}
{{- if .Values.serviceAccountName -}}
{{- .Values.serviceAccountName -}}
{{- else if .Values.serviceAccount.create -}}
{{- default (include "fledge-loadtester.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* Labels of the pods, also the Deployment's selector. */}}
{{- define "fledge-loadtester.selectorLabels" -}}
app.kubernetes.io/name: {{ include "fledge-loadtester.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* Labels of every object of the release. */}}
{{- define "fledge-loadtester.labels" -}}
helm.sh/chart: {{ include "fledge-loadtester.chart" . }}
{{ include "fledge-loadtester.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{/* The image reference; the tag defaults to the chart's appVersion. */}}
{{- define "fledge-loadtester.image" -}}
{{- printf "%s:%s" .Values.image.repository (toString (default .Chart.AppVersion .Values.image.tag)) -}}
{{- end -}}

{{/* replicaCount (Flagger's name), or `replicas` when given. */}}
{{- define "fledge-loadtester.replicas" -}}
{{- if hasKey .Values "replicas" -}}{{ int .Values.replicas }}{{- else -}}{{ int .Values.replicaCount }}{{- end -}}
{{- end -}}

{{/* The -allow entries as a list, whether the value is a list or one string. */}}
{{- define "fledge-loadtester.allow" -}}
{{- $allow := .Values.cmd.allow | default list -}}
{{- if kindIs "string" $allow -}}{{- $allow = list $allow -}}{{- end -}}
{{- toYaml $allow -}}
{{- end -}}

{{/* Refuses values the load tester cannot honour, instead of silently ignoring them. */}}
{{- define "fledge-loadtester.validate" -}}
{{- $levels := list "debug" "info" "warn" "warning" "error" -}}
{{- if and .Values.logLevel (not (has (lower (toString .Values.logLevel)) $levels)) -}}
{{- fail (printf "logLevel %q is not one of: debug, info, warning, error" (toString .Values.logLevel)) -}}
{{- end -}}
{{- if not (regexMatch "^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$" (toString .Values.gates.configMap)) -}}
{{- fail (printf "gates.configMap %q is not a valid ConfigMap name" (toString .Values.gates.configMap)) -}}
{{- end -}}
{{- if not (has (toString .Values.auth.tokenScope) (list "webhooks" "all")) -}}
{{- fail (printf "auth.tokenScope %q: want \"webhooks\" or \"all\"" (toString .Values.auth.tokenScope)) -}}
{{- end -}}
{{- if and .Values.rbac.scope (ne (toString .Values.rbac.scope) "cluster") -}}
{{- fail (printf "rbac.scope %q: want \"cluster\" or empty" (toString .Values.rbac.scope)) -}}
{{- end -}}
{{- end -}}

{{/* The flags of the container, one per line, each a quoted YAML list item. */}}
{{- define "fledge-loadtester.args" -}}
{{- $args := list "-port=8080" (printf "-log-level=%s" (toString .Values.logLevel | default "info")) -}}
{{- with .Values.cmd.timeout }}{{ $args = append $args (printf "-timeout=%s" (toString .)) }}{{ end -}}
{{- with .Values.cmd.namespaceRegexp }}{{ $args = append $args (printf "-namespace-regexp=%s" (toString .)) }}{{ end -}}
{{- range (include "fledge-loadtester.allow" . | fromYamlArray) }}{{ $args = append $args (printf "-allow=%s" (toString .)) }}{{ end -}}
{{- $args = append $args (printf "-token-scope=%s" (toString .Values.auth.tokenScope)) -}}
{{- $load := .Values.load -}}
{{- $args = append $args (printf "-load-in-cluster=%t" (ne (toString $load.inCluster) "false")) -}}
{{- with $load.hosts }}{{ $args = append $args (printf "-load-hosts=%s" (toString .)) }}{{ end -}}
{{- with $load.clusterDomain }}{{ $args = append $args (printf "-cluster-domain=%s" (toString .)) }}{{ end -}}
{{- with $load.maxConcurrency }}{{ $args = append $args (printf "-load-max-concurrency=%d" (int .)) }}{{ end -}}
{{- with $load.maxRate }}{{ $args = append $args (printf "-load-max-rate=%d" (int .)) }}{{ end -}}
{{- with $load.maxDuration }}{{ $args = append $args (printf "-load-max-duration=%s" (toString .)) }}{{ end -}}
{{- with $load.maxRuns }}{{ $args = append $args (printf "-load-max-runs=%d" (int .)) }}{{ end -}}
{{- with .Values.maxConnections }}{{ $args = append $args (printf "-max-connections=%d" (int .)) }}{{ end -}}
{{- $args = append $args (printf "-gate-namespace=%s" .Release.Namespace) -}}
{{- $args = append $args (printf "-gate-configmap=%s" (toString .Values.gates.configMap)) -}}
{{- range $args }}
- {{ . | quote }}
{{- end -}}
{{- end -}}
