{{/* ---------------------------------------------------------------- names and labels */}}

{{- define "offline-push.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "offline-push.fullname" -}}
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

{{- define "offline-push.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels of every resource; pass (dict "root" $ "component" "<name>") or the root context. */}}
{{- define "offline-push.labels" -}}
{{- $root := .root | default . }}
helm.sh/chart: {{ include "offline-push.chart" $root }}
app.kubernetes.io/name: {{ include "offline-push.name" $root }}
app.kubernetes.io/instance: {{ $root.Release.Name }}
app.kubernetes.io/version: {{ $root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ $root.Release.Service }}
app.kubernetes.io/part-of: offline-push
{{- with .component }}
app.kubernetes.io/component: {{ . }}
{{- end }}
{{- with $root.Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{- define "offline-push.selectorLabels" -}}
app.kubernetes.io/name: {{ include "offline-push.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "offline-push.image" -}}
{{- $tag := .Values.image.tag | default .Chart.AppVersion }}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository $tag }}
{{- end }}
{{- end }}

{{- define "offline-push.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "offline-push.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* ---------------------------------------------------------------- the six components */}}

{{/*
The static part of each component: its name (service, label, resource suffix), its bundle and its
HTTP port (HTTP_PORT; the container port is fixed, the Service's port is a value).
*/}}
{{- define "offline-push.componentTable" -}}
tokenRegistry:
  name: token-registry
  main: dist/apps/token-registry/main.js
  port: 3001
  api: true
  consumerBound: false
presence:
  name: presence
  main: dist/apps/presence/main.js
  port: 3002
  api: true
  consumerBound: true
routing:
  name: routing
  main: dist/apps/routing/main.js
  port: 3003
  api: true
  consumerBound: true
apnsDispatcher:
  name: apns-dispatcher
  main: dist/apps/apns-dispatcher/main.js
  port: 3004
  api: false
  consumerBound: true
fcmDispatcher:
  name: fcm-dispatcher
  main: dist/apps/fcm-dispatcher/main.js
  port: 3005
  api: false
  consumerBound: true
deliveryReports:
  name: delivery-reports
  main: dist/apps/delivery-reports/main.js
  port: 3006
  api: true
  consumerBound: true
{{- end }}

{{- define "offline-push.componentKeys" -}}
tokenRegistry presence routing apnsDispatcher fcmDispatcher deliveryReports
{{- end }}

{{- define "offline-push.fcmTransactional" -}}
{{- $v := index .Values.fcmDispatcher.env "FCM_TRANSACTIONAL" | default (index .Values.env "FCM_TRANSACTIONAL") | default "true" | toString | lower }}
{{- if has $v (list "false" "0" "no" "off") }}false{{ else }}true{{ end }}
{{- end }}

{{/*
What each service does on Kafka (libs/contracts topics; docs/architecture.md): the topics it reads
and writes, its consumer groups, its transactional ids and the lag triggers of its groups.
`txInput` marks a trigger whose topic is written in transactions (see values.yaml: a lag scaler
sees a permanent lag of 1 per partition there). Every service also reads every topic's metadata
and config (record size limits at boot), which the ACLs grant to all.
*/}}
{{- define "offline-push.kafkaAccess" -}}
{{- $v := .root.Values }}
{{- if eq .key "tokenRegistry" }}
read: [token.invalidated.v1]
write: [token.user-devices.v1, push.dead-letter.v1]
groups:
  - { name: token-registry-invalidation, patternType: literal }
transactionalIds: []
triggers:
  - { name: invalidations, group: token-registry-invalidation, topic: token.invalidated.v1, offsetResetPolicy: earliest, txInput: {{ include "offline-push.fcmTransactional" .root }}, lagThreshold: {{ $v.tokenRegistry.autoscaling.lagThreshold | quote }} }
{{- else if eq .key "presence" }}
{{- $g := $v.presence.consumerGroup }}
read: [presence.device-event.v1, presence.user-state.v1]
write: [presence.device-event.v1, presence.user-state.v1, push.dead-letter.v1]
groups:
  - { name: {{ $g | quote }}, patternType: literal }
  - { name: {{ printf "%s-lookup-" $g | quote }}, patternType: prefix }
transactionalIds: []
triggers:
  - { name: device-events, group: {{ $g | quote }}, topic: presence.device-event.v1, offsetResetPolicy: earliest, txInput: false, lagThreshold: {{ $v.presence.autoscaling.lagThreshold | quote }} }
{{- else if eq .key "routing" }}
{{- $f := $v.routing.consumerGroups.fanout }}
{{- $d := $v.routing.consumerGroups.decide }}
{{- $start := index $v.routing.env "ROUTING_NEW_GROUP_START" | default (index $v.env "ROUTING_NEW_GROUP_START") | default "latest" }}
read: [im.message.sent.v1, im.message.recalled.v1, im.conversation.read.v1, im.group-members.v1, push.intent.v1, presence.user-state.v1, token.user-devices.v1, routing.badge-state.v1, push.task.v1, push.task-control.v1, routing.task-progress.v1]
write: [im.message.sent.v1, im.message.recalled.v1, im.conversation.read.v1, push.intent.v1, push.apns.request.v1, push.fcm.request.v1, push.outcome.v1, routing.badge-state.v1, push.task.v1, push.task-control.v1, routing.task-progress.v1, push.dead-letter.v1]
groups:
  - { name: {{ $f | quote }}, patternType: literal }
  - { name: {{ printf "%s-memberships" $f | quote }}, patternType: literal }
  - { name: {{ $d | quote }}, patternType: literal }
transactionalIds:
  - { name: {{ printf "%s-" $d | quote }}, patternType: prefix }
triggers:
  - { name: fanout, group: {{ $f | quote }}, topic: im.message.sent.v1, offsetResetPolicy: {{ $start }}, txInput: false, lagThreshold: {{ $v.routing.autoscaling.fanoutLagThreshold | quote }} }
  - { name: decide, group: {{ $d | quote }}, topic: push.intent.v1, offsetResetPolicy: {{ $start }}, txInput: false, lagThreshold: {{ $v.routing.autoscaling.lagThreshold | quote }} }
{{- else if eq .key "apnsDispatcher" }}
{{- $g := $v.apnsDispatcher.consumerGroup }}
read: [push.apns.request.v1, push.apns.retry.v1]
write: [push.apns.retry.v1, push.outcome.v1, token.invalidated.v1, push.dead-letter.v1]
groups:
  - { name: {{ $g | quote }}, patternType: literal }
transactionalIds: []
triggers:
  - { name: requests, group: {{ $g | quote }}, topic: push.apns.request.v1, offsetResetPolicy: earliest, txInput: true, lagThreshold: {{ $v.apnsDispatcher.autoscaling.lagThreshold | quote }} }
{{- else if eq .key "fcmDispatcher" }}
{{- $g := $v.fcmDispatcher.consumerGroup }}
read: [push.fcm.request.v1, push.fcm.retry.v1]
write: [push.fcm.retry.v1, push.outcome.v1, token.invalidated.v1, push.dead-letter.v1]
groups:
  - { name: {{ $g | quote }}, patternType: literal }
{{- if eq (include "offline-push.fcmTransactional" .root) "true" }}
transactionalIds:
  - { name: {{ printf "%s-tx-" $g | quote }}, patternType: prefix }
{{- else }}
transactionalIds: []
{{- end }}
triggers:
  - { name: requests, group: {{ $g | quote }}, topic: push.fcm.request.v1, offsetResetPolicy: earliest, txInput: true, lagThreshold: {{ $v.fcmDispatcher.autoscaling.lagThreshold | quote }} }
{{- else if eq .key "deliveryReports" }}
{{- $s := $v.deliveryReports.consumerGroups.store }}
{{- $w := $v.deliveryReports.consumerGroups.webhooks }}
{{- $start := index $v.deliveryReports.env "DELIVERY_REPORTS_NEW_GROUP_START" | default (index $v.env "DELIVERY_REPORTS_NEW_GROUP_START") | default "earliest" }}
read: [push.outcome.v1, push.webhook.retry.v1, routing.task-progress.v1]
write: [push.webhook.retry.v1, push.dead-letter.v1]
groups:
  - { name: {{ $s | quote }}, patternType: literal }
  - { name: {{ printf "%s-tasks" $s | quote }}, patternType: literal }
  - { name: {{ $w | quote }}, patternType: literal }
  - { name: {{ printf "%s-retries" $w | quote }}, patternType: literal }
transactionalIds: []
triggers:
  - { name: store, group: {{ $s | quote }}, topic: push.outcome.v1, offsetResetPolicy: {{ $start }}, txInput: true, lagThreshold: {{ $v.deliveryReports.autoscaling.lagThreshold | quote }} }
{{- end }}
{{- end }}

{{/* ---------------------------------------------------------------- Kafka client settings */}}

{{/*
The Kafka connection of one client, resolved: (dict "root" $ "key" "<componentKey>|topicsJob").
With Strimzi users, the component's KafkaUser (SCRAM password or TLS certificate from the Secret
the User Operator writes); otherwise kafka.sasl / kafka.tls, overridden by <component>.kafkaAuth.
*/}}
{{- define "offline-push.kafkaAuth" -}}
{{- $v := .root.Values }}
{{- $fullname := include "offline-push.fullname" .root }}
{{- $isJob := eq .key "topicsJob" }}
{{- $override := $v.kafka.topics.createJob.auth }}
{{- if not $isJob }}
{{- $override = (index $v .key).kafkaAuth }}
{{- end }}
{{- $tls := ternary $v.strimzi.tls $v.kafka.tls.enabled $v.strimzi.enabled }}
{{- $ca := dict "name" "" "key" "ca.crt" }}
{{- if $v.strimzi.enabled }}
{{- if $v.strimzi.tls }}
{{- $_ := set $ca "name" ($v.strimzi.clusterCaSecret | default (printf "%s-cluster-ca-cert" $v.strimzi.clusterName)) }}
{{- end }}
{{- else if $v.kafka.tls.caSecret.name }}
{{- $ca = $v.kafka.tls.caSecret }}
{{- end }}
{{- $cert := dict "name" "" "certKey" "tls.crt" "keyKey" "tls.key" }}
{{- $sasl := dict "mechanism" "" "username" "" "secret" "" "key" "password" }}
{{- if and $v.strimzi.enabled $v.strimzi.users.enabled (not $isJob) }}
{{- $user := printf "%s-%s" $fullname (index (include "offline-push.componentTable" .root | fromYaml) .key "name") }}
{{- if eq $v.strimzi.users.authentication "tls" }}
{{- $cert = dict "name" $user "certKey" "user.crt" "keyKey" "user.key" }}
{{- else }}
{{- $sasl = dict "mechanism" "scram-sha-512" "username" $user "secret" $user "key" "password" }}
{{- end }}
{{- else }}
{{- if $override.clientCertSecret.name }}
{{- $cert = $override.clientCertSecret }}
{{- else if $v.kafka.tls.clientCertSecret.name }}
{{- $cert = $v.kafka.tls.clientCertSecret }}
{{- end }}
{{- if $v.kafka.sasl.mechanism }}
{{- $pw := ternary $override.saslPasswordSecret $v.kafka.sasl.passwordSecret (ne $override.saslPasswordSecret.name "") }}
{{- $sasl = dict "mechanism" $v.kafka.sasl.mechanism "username" ($override.saslUsername | default $v.kafka.sasl.username) "secret" $pw.name "key" $pw.key }}
{{- if not (and $sasl.username $sasl.secret) }}
{{- fail (printf "kafka.sasl.mechanism is %s: give kafka.sasl.username and kafka.sasl.passwordSecret.name (or %s)" $v.kafka.sasl.mechanism (ternary "kafka.topics.createJob.auth" (printf "%s.kafkaAuth" .key) $isJob)) }}
{{- end }}
{{- end }}
{{- end }}
{{- if and $cert.name (not $tls) }}
{{- fail "a Kafka client certificate needs TLS: set kafka.tls.enabled (or strimzi.tls)" }}
{{- end }}
tls: {{ $tls }}
rejectUnauthorized: {{ or $v.strimzi.enabled $v.kafka.tls.rejectUnauthorized }}
ca: {{ toJson $ca }}
cert: {{ toJson $cert }}
sasl: {{ toJson $sasl }}
{{- end }}

{{/* Kafka env of a client: (dict "root" $ "key" …). */}}
{{- define "offline-push.kafkaEnv" -}}
{{- $a := include "offline-push.kafkaAuth" . | fromYaml }}
- name: KAFKA_BROKERS
  value: {{ .root.Values.kafka.bootstrapServers | quote }}
- name: KAFKA_PARTITIONS
  value: {{ .root.Values.kafka.topics.partitions | quote }}
- name: KAFKA_REPLICATION_FACTOR
  value: {{ .root.Values.kafka.topics.replicationFactor | quote }}
{{- if $a.tls }}
- name: KAFKA_SSL
  value: "true"
{{- if $a.ca.name }}
- name: KAFKA_SSL_CA_FILE
  value: /etc/offline-push/kafka/ca/ca.crt
{{- end }}
{{- if not $a.rejectUnauthorized }}
- name: KAFKA_SSL_REJECT_UNAUTHORIZED
  value: "false"
{{- end }}
{{- end }}
{{- if $a.cert.name }}
- name: KAFKA_SSL_CERT_FILE
  value: /etc/offline-push/kafka/client/tls.crt
- name: KAFKA_SSL_KEY_FILE
  value: /etc/offline-push/kafka/client/tls.key
{{- end }}
{{- if $a.sasl.mechanism }}
- name: KAFKA_SASL_MECHANISM
  value: {{ $a.sasl.mechanism | quote }}
- name: KAFKA_SASL_USERNAME
  value: {{ $a.sasl.username | quote }}
- name: KAFKA_SASL_PASSWORD_FILE
  value: /etc/offline-push/kafka/sasl/password
{{- end }}
{{- end }}

{{- define "offline-push.kafkaVolumeMounts" -}}
{{- $a := include "offline-push.kafkaAuth" . | fromYaml }}
{{- if and $a.tls $a.ca.name }}
- { name: kafka-ca, mountPath: /etc/offline-push/kafka/ca, readOnly: true }
{{- end }}
{{- if $a.cert.name }}
- { name: kafka-client, mountPath: /etc/offline-push/kafka/client, readOnly: true }
{{- end }}
{{- if $a.sasl.mechanism }}
- { name: kafka-sasl, mountPath: /etc/offline-push/kafka/sasl, readOnly: true }
{{- end }}
{{- end }}

{{- define "offline-push.kafkaVolumes" -}}
{{- $a := include "offline-push.kafkaAuth" . | fromYaml }}
{{- if and $a.tls $a.ca.name }}
- name: kafka-ca
  secret:
    secretName: {{ $a.ca.name }}
    defaultMode: 0440
    items: [{ key: {{ $a.ca.key | quote }}, path: ca.crt }]
{{- end }}
{{- if $a.cert.name }}
- name: kafka-client
  secret:
    secretName: {{ $a.cert.name }}
    defaultMode: 0440
    items:
      - { key: {{ $a.cert.certKey | quote }}, path: tls.crt }
      - { key: {{ $a.cert.keyKey | quote }}, path: tls.key }
{{- end }}
{{- if $a.sasl.mechanism }}
- name: kafka-sasl
  secret:
    secretName: {{ $a.sasl.secret }}
    defaultMode: 0440
    items: [{ key: {{ $a.sasl.key | quote }}, path: password }]
{{- end }}
{{- end }}

{{/* ---------------------------------------------------------------- pods */}}

{{/* Seconds between the pod's deletion and SIGKILL: above the preStop sleep plus the shutdown. */}}
{{- define "offline-push.gracePeriod" -}}
{{- $v := .root.Values }}
{{- $min := add $v.preStopSleepSeconds $v.shutdownTimeoutSeconds }}
{{- $c := index $v .key }}
{{- if $c.terminationGracePeriodSeconds }}
{{- if le (int $c.terminationGracePeriodSeconds) (int $min) }}
{{- fail (printf "%s.terminationGracePeriodSeconds (%d) must be longer than preStopSleepSeconds + shutdownTimeoutSeconds (%d): the pod would be killed during its shutdown" .key (int $c.terminationGracePeriodSeconds) (int $min)) }}
{{- end }}
{{- $c.terminationGracePeriodSeconds }}
{{- else }}
{{- add $min 10 }}
{{- end }}
{{- end }}

{{/* Replicas ceiling of a component: the partition count for the consumers. */}}
{{- define "offline-push.maxReplicas" -}}
{{- $v := .root.Values }}
{{- $c := index $v .key }}
{{- $t := index (include "offline-push.componentTable" .root | fromYaml) .key }}
{{- $max := int $c.autoscaling.maxReplicas }}
{{- if $t.consumerBound }}
{{- $perPod := 1 }}
{{- if eq .key "apnsDispatcher" }}
{{- $perPod = int (index $c.env "APNS_CONSUMERS" | default 1) }}
{{- end }}
{{- $ceiling := max 1 (div (int $v.kafka.topics.partitions) $perPod) }}
{{- $max = min $max $ceiling }}
{{- end }}
{{- if lt $max (int $c.autoscaling.minReplicas) }}
{{- fail (printf "%s.autoscaling.minReplicas (%d) is above the replicas ceiling (%d: maxReplicas, capped at the partition count)" .key (int $c.autoscaling.minReplicas) $max) }}
{{- end }}
{{- $max }}
{{- end }}

{{- define "offline-push.probes" -}}
{{- $p := .probes | default dict }}
{{- $startup := dict "httpGet" (dict "path" "/health/live" "port" "http") "periodSeconds" 2 "timeoutSeconds" 2 "failureThreshold" 30 }}
{{- $live := dict "httpGet" (dict "path" "/health/live" "port" "http") "periodSeconds" 10 "timeoutSeconds" 3 "failureThreshold" 3 }}
{{- $ready := dict "httpGet" (dict "path" "/health/ready" "port" "http") "periodSeconds" 5 "timeoutSeconds" 6 "failureThreshold" 2 }}
startupProbe:
  {{- toYaml (mergeOverwrite $startup ($p.startup | default dict)) | nindent 2 }}
livenessProbe:
  {{- toYaml (mergeOverwrite $live ($p.liveness | default dict)) | nindent 2 }}
readinessProbe:
  {{- toYaml (mergeOverwrite $ready ($p.readiness | default dict)) | nindent 2 }}
{{- end }}
