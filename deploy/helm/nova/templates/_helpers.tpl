{{/* Names and labels. */}}
{{- define "nova.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "nova.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "nova.selectorLabels" -}}
app.kubernetes.io/name: {{ include "nova.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "nova.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "nova.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | replace "+" "_" | trunc 63 | trimSuffix "-" | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "nova.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "nova.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "nova.secretName" -}}
{{- default (include "nova.fullname" .) .Values.existingSecret }}
{{- end }}

{{/* The store backend, as Nova defaults it. */}}
{{- define "nova.backend" -}}
{{- $store := .Values.config.store | default dict }}
{{- $store.backend | default "bolt" }}
{{- end }}

{{/*
nova.config renders Nova's configuration: the user's config with listen
and (bolt) store.path set by the chart. It also refuses what cannot work:
several replicas on bolt, and a secret written into the config instead of
a ${file:...} reference to the mounted Secret.
*/}}
{{- define "nova.config" -}}
{{- $cfg := deepCopy (.Values.config | default dict) }}
{{- $backend := include "nova.backend" . }}
{{- if and (gt (int .Values.replicaCount) 1) (ne $backend "redis") }}
{{- fail (printf "replicaCount is %d, but config.store.backend is %s: several replicas need Redis (set config.store.backend: redis and config.store.url), the embedded bolt store is one process" (int .Values.replicaCount) $backend) }}
{{- end }}
{{- $_ := set $cfg "listen" (printf ":%d" (int .Values.containerPort)) }}
{{- $store := deepCopy ($cfg.store | default dict) }}
{{- if and (eq $backend "redis") (not $store.url) (not $store.addrs) }}
{{- fail "config.store.backend is redis but neither config.store.url nor config.store.addrs is set: write url: \"${file:/etc/nova/secrets/redis-url}\" and put the URL in the Secret" }}
{{- end }}
{{- if eq $backend "bolt" }}
{{- $_ := set $store "backend" "bolt" }}
{{- $_ := set $store "path" "/data/nova.db" }}
{{- end }}
{{- $_ := set $cfg "store" $store }}
{{- /* Every secret field must be a reference, never a value. */}}
{{- $refs := list }}
{{- if $store.url }}{{ $refs = append $refs (list "config.store.url" $store.url) }}{{ end }}
{{- range $i, $k := ($cfg.api_keys | default list) }}
{{- $refs = append $refs (list (printf "config.api_keys[%d].key" $i) (toString $k.key)) }}
{{- end }}
{{- range $env, $e := ($cfg.environments | default dict) }}
{{- $pd := $e.pagerduty | default dict }}
{{- if $pd.token }}{{ $refs = append $refs (list (printf "config.environments.%s.pagerduty.token" $env) $pd.token) }}{{ end }}
{{- range $i, $s := ($pd.webhook_secrets | default list) }}
{{- $v := $s }}{{ if kindIs "map" $s }}{{ $v = $s.secret }}{{ end }}
{{- $refs = append $refs (list (printf "config.environments.%s.pagerduty.webhook_secrets[%d]" $env $i) (toString $v)) }}
{{- end }}
{{- $sl := $e.slack | default dict }}
{{- range $f := list "bot_token" "signing_secret" "app_token" }}
{{- if index $sl $f }}{{ $refs = append $refs (list (printf "config.environments.%s.slack.%s" $env $f) (index $sl $f)) }}{{ end }}
{{- end }}
{{- end }}
{{- range $i, $a := ($cfg.actions | default list) }}
{{- $ex := $a.executor | default dict }}
{{- if $ex.secret }}{{ $refs = append $refs (list (printf "config.actions[%d].executor.secret" $i) $ex.secret) }}{{ end }}
{{- end }}
{{- $triage := $cfg.triage | default dict }}
{{- $llm := $triage.llm | default dict }}
{{- if $llm.api_key }}{{ $refs = append $refs (list "config.triage.llm.api_key" $llm.api_key) }}{{ end }}
{{- $mount := trimSuffix "/" .Values.secretsMountPath }}
{{- range $r := $refs }}
{{- $field := index $r 0 }}{{ $v := index $r 1 }}
{{- if not (regexMatch "^\\$\\{[^}]+\\}$" $v) }}
{{- fail (printf "%s holds a literal value: put the secret in .Values.secrets (or existingSecret) and write \"${file:%s/<key>}\"" $field $mount) }}
{{- end }}
{{- if hasPrefix "${file:" $v }}
{{- $path := trimSuffix "}" (trimPrefix "${file:" $v) }}
{{- if not (hasPrefix (printf "%s/" $mount) $path) }}
{{- fail (printf "%s reads %s, outside the mounted Secret %s" $field $path $mount) }}
{{- end }}
{{- $key := trimPrefix (printf "%s/" $mount) $path }}
{{- if and (not $.Values.existingSecret) (not (hasKey ($.Values.secrets | default dict) $key)) }}
{{- fail (printf "%s reads %s, but .Values.secrets has no key %q (or set existingSecret)" $field $path $key) }}
{{- end }}
{{- end }}
{{- end }}
{{- toYaml $cfg }}
{{- end }}
