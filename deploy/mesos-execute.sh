#!/usr/bin/env bash
# Runs etcd-mesos-scheduler as a Mesos task without Marathon, through Mesos'
# own mesos-execute (docs/deploy.md). Run it twice, with INSTANCE=a and
# INSTANCE=b (each on its own ports), for a leader and a standby.
#
#   MESOS_MASTER=zk://zk1:2181/mesos ZK=zk1:2181 ADMIN_SECRET=... \
#     deploy/mesos-execute.sh [--print]
#
# mesos-execute is itself a framework: the task lives as long as it runs, so
# run it under a supervisor (systemd, tmux). Inside the task a loop starts
# the scheduler again whenever it exits (as Restart=always would).
# --print writes the TaskInfo (JSON) to stdout instead of running it.
#
# Environment:
#   MESOS_MASTER     the Mesos master, host:port or zk://.../mesos (required)
#   ZK               ZooKeeper hosts for -zk-framework-persist, h1:p1,h2:p2 (required)
#   ADMIN_SECRET     the admin interface's secret (required)
#   INSTANCE         a, b, ... names the task (default a)
#   ADMIN_PORT       admin port on the agent (default 31500, or 31510 for b, ...)
#   ARTIFACT_PORT    artifact port on the agent (default ADMIN_PORT + 1); both
#                    must lie in the agents' offered port range
#   DEB_URIS         space-separated URIs of the etcd-mesos, etcd-server and
#                    etcd-client .deb files, fetched into the sandbox and
#                    extracted there; empty: the agents have the etcd-mesos
#                    package installed and /usr/bin is used (etcd and etcdctl
#                    too when their packages are not among the URIs)
#   CLUSTER_SIZE     default 3;  FRAMEWORK_NAME  default etcd
#   EXTRA_FLAGS      more scheduler flags
#   MESOS_EXECUTE    path of mesos-execute (default: from PATH)
set -euo pipefail
print_only=0
if [[ "${1:-}" == "--print" ]]; then
  print_only=1
elif (($#)); then
  echo "usage: deploy/mesos-execute.sh [--print]" >&2
  exit 2
fi
: "${MESOS_MASTER:?set MESOS_MASTER (host:port or zk://.../mesos)}"
: "${ZK:?set ZK (ZooKeeper hosts h1:p1,h2:p2 for -zk-framework-persist)}"
: "${ADMIN_SECRET:?set ADMIN_SECRET (the admin interface secret)}"
instance="${INSTANCE:-a}"
if [[ ! "$instance" =~ ^[a-z0-9]+$ ]]; then
  echo "INSTANCE must be lower-case letters and digits" >&2
  exit 2
fi
index=$(($(printf '%d' "'${instance:0:1}") - 97))
((index >= 0 && index < 26)) || index=0
admin_port="${ADMIN_PORT:-$((31500 + 10 * index))}"
artifact_port="${ARTIFACT_PORT:-$((admin_port + 1))}"
framework_name="${FRAMEWORK_NAME:-etcd}"

# The command the task runs (sh -c on the agent, in the sandbox).
bin=/usr/bin
setup=""
uris="[]"
if [[ -n "${DEB_URIS:-}" ]]; then
  bin='$MESOS_SANDBOX/root/usr/bin'
  setup='for deb in *.deb; do dpkg-deb -x "$deb" root; done; '
  uris="$(for u in $DEB_URIS; do printf '{"value":"%s","extract":false,"cache":true}\n' "$u"; done |
    paste -sd, | sed 's/^/[/; s/$/]/')"
fi
command="set -e; ${setup}umask 077; printf %s \"\$ETCD_MESOS_ADMIN_SECRET\" > admin-secret; \
ip=\$(hostname -I | awk '{print \$1}'); etcd=\"$bin/etcd\"; etcdctl=\"$bin/etcdctl\"; \
[ -x \"\$etcd\" ] || etcd=/usr/bin/etcd; [ -x \"\$etcdctl\" ] || etcdctl=/usr/bin/etcdctl; \
while true; do \"$bin/etcd-mesos-scheduler\" -master='$MESOS_MASTER' \
-zk-framework-persist='zk://$ZK/etcd-mesos' -framework-name='$framework_name' \
-cluster-size='${CLUSTER_SIZE:-3}' -address=\"\$ip\" -admin-port=$admin_port \
-artifact-port=$artifact_port -admin-secret-file=\"\$MESOS_SANDBOX/admin-secret\" \
-etcd-bin=\"\$etcd\" -etcdctl-bin=\"\$etcdctl\" ${EXTRA_FLAGS:-} || true; \
echo 'etcd-mesos-scheduler exited; starting it again in 5 s' >&2; sleep 5; done"

# A JSON string: the values above hold no control characters.
json_string() {
  local s="${1//\\/\\\\}"
  s="${s//\"/\\\"}"
  printf '"%s"' "$s"
}
ports="{\"begin\":$admin_port,\"end\":$admin_port},{\"begin\":$artifact_port,\"end\":$artifact_port}"
task_json="{
  \"name\": \"etcd-mesos-scheduler-$instance\",
  \"task_id\": {\"value\": \"etcd-mesos-scheduler-$instance\"},
  \"agent_id\": {\"value\": \"\"},
  \"resources\": [
    {\"name\": \"cpus\", \"type\": \"SCALAR\", \"scalar\": {\"value\": 0.5}},
    {\"name\": \"mem\", \"type\": \"SCALAR\", \"scalar\": {\"value\": 256}},
    {\"name\": \"ports\", \"type\": \"RANGES\", \"ranges\": {\"range\": [$ports]}}
  ],
  \"command\": {
    \"value\": $(json_string "$command"),
    \"uris\": $uris,
    \"environment\": {\"variables\": [
      {\"name\": \"ETCD_MESOS_ADMIN_SECRET\", \"value\": $(json_string "$ADMIN_SECRET")}
    ]}
  }
}"
if ((print_only)); then
  printf '%s\n' "$task_json"
  exit 0
fi
task="$(mktemp "${TMPDIR:-/tmp}/etcd-mesos-task.XXXXXX.json")"
trap 'rm -f "$task"' EXIT
printf '%s\n' "$task_json" >"$task"
"${MESOS_EXECUTE:-mesos-execute}" --master="$MESOS_MASTER" --checkpoint --task="$task"
