{{/* Chart name and version, for the helm.sh/chart label. */}}
{{- define "fledge.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Name of the chart, or nameOverride. */}}
{{- define "fledge.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Fully qualified name: fullnameOverride, else the release name when it contains the chart name, else release-chart. */}}
{{- define "fledge.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* Name of the service account to create or use. */}}
{{- define "fledge.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "fledge.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* Labels of the pods, also the Deployment's selector. */}}
{{- define "fledge.selectorLabels" -}}
app.kubernetes.io/name: {{ include "fledge.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* Labels of every object of the release. */}}
{{- define "fledge.labels" -}}
helm.sh/chart: {{ include "fledge.chart" . }}
{{ include "fledge.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{/* The image reference; the tag defaults to the chart's appVersion. */}}
{{- define "fledge.image" -}}
{{- printf "%s:%s" .Values.image.repository (toString (default .Chart.AppVersion .Values.image.tag)) -}}
{{- end -}}

{{/*
Refuses values of Flagger's chart that Fledge cannot honour, instead of silently ignoring them.
*/}}
{{- define "fledge.validate" -}}
{{- $providers := list "apisix" "appmesh" "appmesh:v1beta2" "contour" "gatewayapi:v1" "gatewayapi:v1beta1" "gloo" "istio" "knative" "kubernetes" "kuma" "linkerd" "nginx" "osm" "skipper" "smi:v1alpha1" "smi:v1alpha2" "smi:v1alpha3" "traefik" -}}
{{- if and .Values.meshProvider (not (has (toString .Values.meshProvider) $providers)) -}}
{{- fail (printf "meshProvider %q is not one of: %s" (toString .Values.meshProvider) (join ", " $providers)) -}}
{{- end -}}
{{- $levels := list "debug" "info" "warn" "warning" "error" -}}
{{- if and .Values.logLevel (not (has (lower (toString .Values.logLevel)) $levels)) -}}
{{- fail (printf "logLevel %q is not one of: debug, info, warning, error" (toString .Values.logLevel)) -}}
{{- end -}}
{{- if and .Values.prometheus .Values.prometheus.install -}}
{{- fail "prometheus.install=true is not supported: Fledge's chart does not bundle Prometheus; install one (e.g. kube-prometheus-stack) and set metricsServer to its URL" -}}
{{- end -}}
{{- if and .Values.controlplane .Values.controlplane.kubeconfig .Values.controlplane.kubeconfig.secretName -}}
{{- fail "controlplane.kubeconfig.secretName is not supported: Fledge does not manage routing objects in a separate cluster (-kubeconfig-service-mesh)" -}}
{{- end -}}
{{- if and .Values.rbac.create .Values.rbac.pspEnabled -}}
{{- fail "rbac.pspEnabled=true is not supported: PodSecurityPolicy was removed in Kubernetes 1.25; use Pod Security admission" -}}
{{- end -}}
{{- if and (not .Values.leaderElection.enabled) (gt (int .Values.leaderElection.replicaCount) 1) -}}
{{- fail "leaderElection.replicaCount > 1 needs leaderElection.enabled=true: replicas without leader election would all drive the same canaries" -}}
{{- end -}}
{{- end -}}

{{/* The flags of the fledge container, one per line, each a quoted YAML list item. */}}
{{- define "fledge.args" -}}
{{- $args := list (printf "-log-level=%s" (toString .Values.logLevel | default "info")) -}}
{{- with .Values.meshProvider }}{{ $args = append $args (printf "-mesh-provider=%s" (toString .)) }}{{ end -}}
{{- with .Values.metricsServer }}{{ $args = append $args (printf "-metrics-server=%s" (toString .)) }}{{ end -}}
{{- with .Values.selectorLabels }}{{ $args = append $args (printf "-selector-labels=%s" (toString .)) }}{{ end -}}
{{- if .Values.configTracking }}{{ $args = append $args (printf "-enable-config-tracking=%t" (ne (toString .Values.configTracking.enabled) "false")) }}{{ end -}}
{{- with .Values.namespace }}{{ $args = append $args (printf "-namespace=%s" (toString .)) }}{{ end -}}
{{- with .Values.slack.url }}{{ $args = append $args (printf "-slack-url=%s" (toString .)) }}{{ end -}}
{{- with (.Values.slack.proxyUrl | default .Values.slack.proxy) }}{{ $args = append $args (printf "-slack-proxy-url=%s" (toString .)) }}{{ end -}}
{{- with .Values.slack.user }}{{ $args = append $args (printf "-slack-user=%s" (toString .)) }}{{ end -}}
{{- with .Values.slack.channel }}{{ $args = append $args (printf "-slack-channel=%s" (toString .)) }}{{ end -}}
{{- with .Values.msteams.url }}{{ $args = append $args (printf "-msteams-url=%s" (toString .)) }}{{ end -}}
{{- with .Values.msteams.proxyUrl }}{{ $args = append $args (printf "-msteams-proxy-url=%s" (toString .)) }}{{ end -}}
{{- if .Values.leaderElection.enabled }}
{{- $args = append $args "-enable-leader-election=true" -}}
{{- $args = append $args (printf "-leader-election-namespace=%s" .Release.Namespace) -}}
{{- end -}}
{{- with .Values.ingressAnnotationsPrefix }}{{ $args = append $args (printf "-ingress-annotations-prefix=%s" (toString .)) }}{{ end -}}
{{- with .Values.includeLabelPrefix }}{{ $args = append $args (printf "-include-label-prefix=%s" (toString .)) }}{{ end -}}
{{- with .Values.ingressClass }}{{ $args = append $args (printf "-ingress-class=%s" (toString .)) }}{{ end -}}
{{- with .Values.eventWebhook }}{{ $args = append $args (printf "-event-webhook=%s" (toString .)) }}{{ end -}}
{{- with .Values.kubeconfigQPS }}{{ $args = append $args (printf "-kubeconfig-qps=%s" (toString .)) }}{{ end -}}
{{- with .Values.kubeconfigBurst }}{{ $args = append $args (printf "-kubeconfig-burst=%s" (toString .)) }}{{ end -}}
{{- with .Values.threadiness }}{{ $args = append $args (printf "-threadiness=%s" (toString .)) }}{{ end -}}
{{- with .Values.clusterName }}{{ $args = append $args (printf "-cluster-name=%s" (toString .)) }}{{ end -}}
{{- if .Values.noCrossNamespaceRefs }}{{ $args = append $args "-no-cross-namespace-refs=true" }}{{ end -}}
{{- if .Values.freeze }}
{{- if eq (toString .Values.freeze.enabled) "false" }}{{ $args = append $args "-freeze-namespace=" }}
{{- else }}{{ with .Values.freeze.namespace }}{{ $args = append $args (printf "-freeze-namespace=%s" (toString .)) }}{{ end }}
{{- end }}
{{- end -}}
{{- range $args }}
- {{ . | quote }}
{{- end -}}
{{- end -}}

{{/*
Flagger's helper names, for values files written for Flagger's chart that use them in `tpl` strings
(its default affinity uses '{{ template "flagger.name" . }}').
*/}}
{{- define "flagger.name" -}}{{ include "fledge.name" . }}{{- end -}}
{{- define "flagger.fullname" -}}{{ include "fledge.fullname" . }}{{- end -}}
{{- define "flagger.chart" -}}{{ include "fledge.chart" . }}{{- end -}}
{{- define "flagger.serviceAccountName" -}}{{ include "fledge.serviceAccountName" . }}{{- end -}}
