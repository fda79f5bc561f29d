#!/bin/bash
# Cold-start A/B of two built checkouts: each run starts a fresh 1-worker run-server
# from SERVER_TREE, waits 0.5 s after "listening" (as P7 does), runs one run-client from
# CLIENT_TREE (200 000 zero-wait commands, batch 256) and prints its in-run ms.
#   bench/ab-cold.sh OLD_TREE NEW_TREE [RUNS]   e.g. bench/ab-cold.sh /work/base /work/main 5
# Prints the runs of old/old, new/old (server new), old/new (client new), new/new.
set -euo pipefail
OLD=$1; NEW=$2; RUNS=${3:-5}
DIR=$(mktemp -d /tmp/cgw-ab-XXXXXX)
trap 'rm -rf "$DIR"' EXIT
node -e "
const fs=require('fs');let m='',c='';
for(let i=0;i<200000;i++){const a='10.'+((i>>16)&255)+'.'+((i>>8)&255)+'.'+(i&255);m+=a+':foo:1:0\n';c+=a+':foo\n'}
fs.writeFileSync('$DIR/map.txt',m);fs.writeFileSync('$DIR/cmds.txt',c)"
once() {
  node "$1/bin/run-server.js" "$DIR/map.txt" 'tcp://127.0.0.1:*' x 1 --min-workers 1 --log-level warn > "$DIR/srv.out" 2>/dev/null &
  local sp=$!
  for _ in $(seq 200); do grep -q listening "$DIR/srv.out" && break; sleep 0.05; done
  local ep; ep=$(grep -o 'tcp://[^ ]*' "$DIR/srv.out" | head -1)
  sleep 0.5
  node "$2/bin/run-client.js" "$DIR/cmds.txt" 256 'tcp://127.0.0.1:*' "$ep" --json | grep -o '"elapsedMs":[0-9]*' | cut -d: -f2
  kill -INT "$sp"; wait "$sp" || true
}
declare -A out
for _ in $(seq "$RUNS"); do
  for pair in "old old" "new old" "old new" "new new"; do
    set -- $pair
    s=$OLD; [ "$1" = new ] && s=$NEW
    c=$OLD; [ "$2" = new ] && c=$NEW
    out[$pair]="${out[$pair]:-} $(once "$s" "$c")"
  done
done
for pair in "old old" "new old" "old new" "new new"; do echo "server/client ${pair/ //}: ${out[$pair]} ms"; done
