#!/bin/sh
# Counts fsync-family syscalls for N sequential one-entry batches (+20 warm-up) per variant.
# Usage: sh strace-fsync.sh [N]   (default 1000)
N=${1:-1000}
for v in nx-sync nx-nosync rn rn+walsync nxw-sync; do
  for t in seq c64; do
    strace -f -qq -c -e trace=fsync,fdatasync,sync_file_range,msync -o /tmp/rocks-eval/strace-$v-$t.txt \
      node /tmp/rocks-eval/bench.js run $v $t --ops $N >/dev/null
    echo "== $v $t ($N batches + 20 warm-up)"; grep -E 'fsync|fdatasync|sync_file_range|total' /tmp/rocks-eval/strace-$v-$t.txt | awk '{print "   ", $NF, "calls=" $4}'
  done
done
