{{/*
Named templates of the raftkv chart, all prefixed `raftkv.` (Helm shares one template namespace
across a chart and its parents).
*/}}

{{/* The chart name, or nameOverride. */}}
{{- define "raftkv.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
RELEASE-CHART, or the release name alone when it already contains the chart name, or
fullnameOverride; at most 63 characters (DNS label).
*/}}
{{- define "raftkv.fullname" -}}
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

{{/* chart-version, for the helm.sh/chart label. */}}
{{- define "raftkv.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
The RaftCluster's name: cluster.name, else the full name. At most 52 characters, because the
StatefulSet of that name labels its pods with NAME-<10-character revision hash> (63 at most).
*/}}
{{- define "raftkv.clusterName" -}}
{{- default (include "raftkv.fullname" .) .Values.cluster.name | trunc 52 | trimSuffix "-" -}}
{{- end -}}

{{/* The operator's Deployment, ServiceAccount, Role and Service name. */}}
{{- define "raftkv.operatorName" -}}
{{- printf "%s-operator" (include "raftkv.fullname" . | trunc 54 | trimSuffix "-") -}}
{{- end -}}

{{/*
Several label maps merged into one YAML map, the first map's value winning for a key in more than
one: (list $chartLabels $userLabels). Merging rather than concatenating keeps a label set twice
(commonLabels and podLabels, say) from rendering a duplicate key.
*/}}
{{- define "raftkv.mergedLabels" -}}
{{- $merged := dict -}}
{{- range . -}}
{{- $merged = merge $merged (default (dict) .) -}}
{{- end -}}
{{- toYaml $merged -}}
{{- end -}}

{{/* Helm's recommended labels. */}}
{{- define "raftkv.standardLabels" -}}
helm.sh/chart: {{ include "raftkv.chart" . }}
app.kubernetes.io/name: {{ include "raftkv.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/part-of: raftkv
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{/* Labels of every object the chart renders: the recommended set plus commonLabels. */}}
{{- define "raftkv.labels" -}}
{{- include "raftkv.mergedLabels" (list (include "raftkv.standardLabels" . | fromYaml) .Values.commonLabels) -}}
{{- end -}}

{{/*
Labels of one component's objects: (dict "context" $ "component" "operator" "extra" $userLabels).
The chart's labels win, then the object's own extra labels, then commonLabels.
*/}}
{{- define "raftkv.componentLabels" -}}
{{- $chartLabels := include "raftkv.standardLabels" .context | fromYaml -}}
{{- $component := dict "app.kubernetes.io/component" .component -}}
{{- include "raftkv.mergedLabels" (list $component $chartLabels .extra .context.Values.commonLabels) -}}
{{- end -}}

{{/* Selector labels of the operator's pods: name, instance, component only (immutable). */}}
{{- define "raftkv.operatorSelectorLabels" -}}
app.kubernetes.io/name: {{ include "raftkv.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: operator
{{- end -}}

{{/* Labels of the operator's objects. */}}
{{- define "raftkv.operatorLabels" -}}
{{- include "raftkv.componentLabels" (dict "context" . "component" "operator") -}}
{{- end -}}

{{/*
Selector labels of the member pods, as the operator sets them (decision 0011): name raftkv,
instance = the RaftCluster's name, component node.
*/}}
{{- define "raftkv.nodeSelectorLabels" -}}
app.kubernetes.io/name: raftkv
app.kubernetes.io/instance: {{ include "raftkv.clusterName" . }}
app.kubernetes.io/component: node
{{- end -}}

{{/*
An image reference from {registry, repository, tag, digest} with the chart's appVersion as the
default tag. Argument: a dict with `image` (the map) and `context` (the root context).
*/}}
{{- define "raftkv.imageReference" -}}
{{- $image := .image -}}
{{- $repository := $image.repository -}}
{{- if $image.registry -}}
{{- $repository = printf "%s/%s" $image.registry $image.repository -}}
{{- end -}}
{{- if $image.digest -}}
{{- printf "%s@%s" $repository $image.digest -}}
{{- else -}}
{{- printf "%s:%s" $repository (default .context.Chart.AppVersion $image.tag | toString) -}}
{{- end -}}
{{- end -}}

{{/* The raftkv image (nodes, helm test). */}}
{{- define "raftkv.image" -}}
{{- include "raftkv.imageReference" (dict "image" .Values.image "context" .) -}}
{{- end -}}

{{/*
The operator image: the raftkv image (one image for both) unless operator.image.repository names
another, which then takes only operator.image's registry, tag (appVersion when empty) and digest.
*/}}
{{- define "raftkv.operatorImage" -}}
{{- if .Values.operator.image.repository -}}
{{- include "raftkv.imageReference" (dict "image" .Values.operator.image "context" .) -}}
{{- else -}}
{{- include "raftkv.image" . -}}
{{- end -}}
{{- end -}}

{{/* The operator's ServiceAccount name. */}}
{{- define "raftkv.operatorServiceAccountName" -}}
{{- if .Values.operator.serviceAccount.create -}}
{{- default (include "raftkv.operatorName" .) .Values.operator.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.operator.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* True when the cluster serves the Prometheus Operator's API (PodMonitor, PrometheusRule...). */}}
{{- define "raftkv.hasMonitoringApi" -}}
{{- if .Capabilities.APIVersions.Has "monitoring.coreos.com/v1" -}}true{{- end -}}
{{- end -}}

{{/*
The client endpoint of the cluster, NAME.NAMESPACE.svc.DOMAIN:2379 (the client Service the
operator creates).
*/}}
{{- define "raftkv.clientEndpoint" -}}
{{- printf "%s.%s.svc.%s:2379" (include "raftkv.clusterName" .) .Release.Namespace .Values.clusterDomain -}}
{{- end -}}
