#!/bin/bash
# nchan.sh: the fan-out bench's nginx + nchan peer: its own nginx (one worker, nchan EventSource on channel "bench") fed by sse_bench_nchan_pub.
#
# Usage: bench/peers/nchan.sh --port P --rate R [--bind ADDR]
#   Prints "listening port=P pid=WORKER_PID,PUBLISHER_PID" once nginx answers
#   and the publisher is connected; on SIGTERM/SIGINT stops both and prints
#   the publisher's "stopped ..." line. Exit 2: bad flag; 3: a package is
#   missing. NCHAN_PUB names the publisher (default build/bin/ of this tree).
set -u

me=nchan.sh
here=$(cd "$(dirname "$0")" && pwd)
pub=${NCHAN_PUB:-$here/../../build/bin/sse_bench_nchan_pub}
module=/usr/lib/nginx/modules/ngx_nchan_module.so

port="" rate="" bind=127.0.0.1
while [ $# -gt 0 ]; do
    case "$1" in
    --port | --rate | --bind)
        [ $# -ge 2 ] || { echo "$me: $1 needs a value" >&2; exit 2; }
        case "$1" in
        --port) port=$2 ;;
        --rate) rate=$2 ;;
        --bind) bind=$2 ;;
        esac
        shift 2 ;;
    *) echo "$me: unknown flag: $1 (usage: $me --port P --rate R [--bind ADDR])" >&2; exit 2 ;;
    esac
done
case "$port" in '' | *[!0-9]*) echo "$me: bad value for --port: '$port'" >&2; exit 2 ;; esac
case "$rate" in '' | *[!0-9]* | 0) echo "$me: bad value for --rate: '$rate'" >&2; exit 2 ;; esac
[ "$port" -le 65535 ] || { echo "$me: bad value for --port: $port" >&2; exit 2; }

nginx=$(command -v nginx || echo /usr/sbin/nginx)
[ -x "$nginx" ] || { echo "$me: nginx is not installed (Debian package nginx)" >&2; exit 3; }
[ -f "$module" ] || { echo "$me: the nchan module is not installed (Debian package libnginx-mod-nchan)" >&2; exit 3; }
[ -x "$pub" ] || { echo "$me: no publisher at $pub (make bench-peers)" >&2; exit 1; }

dir=$(mktemp -d /tmp/sse-bench-nchan.XXXXXX) || exit 1
master="" worker="" pub_pid=""
cleanup() {
    for p in $pub_pid $master; do kill -KILL "$p" 2>/dev/null; done
    rm -rf "$dir"
}
trap cleanup EXIT
stopping=0
trap 'stopping=1' TERM INT

# nginx cannot report a port it picked: pick a free one (retried below if
# another process takes it first).
free_port() {
    python3 -c 'import socket,sys; s=socket.socket(); s.bind((sys.argv[1], 0)); print(s.getsockname()[1])' "$bind"
}

# The worker's fd limit may not exceed the hard limit (EPERM otherwise).
nofile=$(ulimit -Hn)
[ "$nofile" = unlimited ] && nofile=65536
[ "$nofile" -gt 65536 ] && nofile=65536

write_conf() {
    cat >"$dir/nginx.conf" <<EOF
load_module $module;
daemon off;
worker_processes 1;
worker_rlimit_nofile $nofile;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 8192; }
http {
    access_log off;
    client_body_temp_path $dir/body;
    proxy_temp_path $dir/proxy;
    fastcgi_temp_path $dir/fastcgi;
    uwsgi_temp_path $dir/uwsgi;
    scgi_temp_path $dir/scgi;
    # the publisher's one connection carries every event
    keepalive_requests 1000000000;
    keepalive_timeout 3600s;
    server {
        listen $bind:$1;
        location = /pub {
            nchan_publisher;
            nchan_channel_id bench;
            nchan_message_buffer_length 1000;
        }
        # every other path: an EventSource subscriber from the next event on
        location / {
            nchan_subscriber eventsource;
            nchan_channel_id bench;
            nchan_subscriber_first_message newest;
            add_header Cache-Control no-cache;
        }
    }
}
EOF
}

# nginx up and answering on its port: 0; it exited: 1.
wait_nginx() {
    local i
    for i in $(seq 100); do
        kill -0 "$master" 2>/dev/null || return 1
        if (exec 3<>"/dev/tcp/$bind/$1") 2>/dev/null; then
            worker=$(pgrep -P "$master" | head -n 1)
            [ -n "$worker" ] && return 0
        fi
        sleep 0.1
    done
    return 1
}

for try in 1 2 3; do
    p=$port
    [ "$p" -eq 0 ] && p=$(free_port)
    write_conf "$p"
    "$nginx" -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" </dev/null >&2 &
    master=$!
    if wait_nginx "$p"; then
        port=$p
        break
    fi
    kill -KILL "$master" 2>/dev/null
    wait "$master" 2>/dev/null
    master=""
    [ "$port" -ne 0 ] && break # a fixed port: no point in retrying
done
if [ -z "$master" ]; then
    echo "$me: nginx did not start:" >&2
    tail -n 5 "$dir/error.log" >&2 2>/dev/null
    exit 1
fi

"$pub" --port "$port" --rate "$rate" --bind "$bind" >"$dir/pub.out" &
pub_pid=$!
for i in $(seq 100); do
    grep -q '^connected ' "$dir/pub.out" 2>/dev/null && break
    kill -0 "$pub_pid" 2>/dev/null || break
    sleep 0.1
done
if ! grep -q '^connected ' "$dir/pub.out" 2>/dev/null; then
    echo "$me: the publisher did not connect to nginx on port $port" >&2
    exit 1
fi
echo "listening port=$port pid=$worker,$pub_pid"

# Run until told to stop (or the publisher ends by itself).
while [ "$stopping" -eq 0 ] && kill -0 "$pub_pid" 2>/dev/null; do
    wait "$pub_pid"
done

# Stop both; nginx's TERM is its fast shutdown (every subscriber closed).
kill -TERM "$pub_pid" "$master" 2>/dev/null
for i in $(seq 50); do
    kill -0 "$pub_pid" 2>/dev/null || kill -0 "$master" 2>/dev/null || break
    sleep 0.1
done
for p in $pub_pid $master; do
    kill -0 "$p" 2>/dev/null && { echo "$me: pid $p ignored SIGTERM for 5 s: killed" >&2; kill -KILL "$p"; }
done
wait "$pub_pid" "$master" 2>/dev/null
pub_pid="" master=""
grep '^stopped ' "$dir/pub.out" || echo "stopped published=0 skipped=0 late_max_us=0 publish_avg_us=0.0 publish_max_us=0 publisher_failed=1"
exit 0
