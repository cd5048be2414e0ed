#!/usr/bin/env bash
# Benchmark of the feed daemon: seed news through the admin API, serve a
# cached feed under load (200 identity, 200 brotli, 304), report requests/s,
# latency and peak memory; then the criterion render benchmarks (items/s)
# and the delivery benchmark (cross-posting latency and rate-limited
# throughput against the in-process platform fakes).
#
# Usage: scripts/bench.sh [--no-criterion] [--no-delivery]
# Environment:
#   BENCH_SECONDS      wrk duration per run (default 10)
#   BENCH_ITEMS        news items to seed (default 1000)
#   BENCH_CONNECTIONS  wrk connections (default 32)
#   BENCH_THREADS      wrk threads (default 2)
#   BENCH_SEED_JOBS    concurrent create requests while seeding (default 4)
#   BENCH_CRITERION_ARGS  arguments after `cargo bench --bench render --`
#                      (default --quick: one iteration of each full render,
#                      ~1 min; set it to "" for criterion's full statistics,
#                      ~7 min on 2 cores, or to a filter such as "reuse")
#   BENCH_DELIVERY_ITEMS, BENCH_DELIVERY_BURST, BENCH_DELIVERY_LIMIT,
#   BENCH_DELIVERY_WINDOW_MS  see benches/delivery.rs (~30 s with defaults)
#   BENCH_KEEP=1       keep the temporary directory (config, store, logs)
#   CARGO_TARGET_DIR   honoured (default: <repo>/target)
#
# Everything runs on 127.0.0.1 against a throw-away data directory. Needs
# cargo, curl and wrk (Debian: apt-get install -y wrk).
set -euo pipefail

usage() { sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//'; }

criterion=1
delivery=1
for arg in "$@"; do
    case "$arg" in
        --no-criterion) criterion=0 ;;
        --no-delivery) delivery=0 ;;
        -h | --help) usage; exit 0 ;;
        *) echo "bench.sh: unknown argument: $arg" >&2; usage >&2; exit 2 ;;
    esac
done

seconds=${BENCH_SECONDS:-10}
items=${BENCH_ITEMS:-1000}
connections=${BENCH_CONNECTIONS:-32}
threads=${BENCH_THREADS:-2}
seed_jobs=${BENCH_SEED_JOBS:-4}

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
target=${CARGO_TARGET_DIR:-$repo/target}
bin=$target/release/musharaka

for tool in cargo curl wrk; do
    if ! command -v "$tool" >/dev/null; then
        hint=""
        [[ $tool != cargo ]] && hint=" (Debian: apt-get install -y $tool)"
        echo "bench.sh: '$tool' not found$hint" >&2
        exit 1
    fi
done

log() { printf '\n== %s\n' "$*" >&2; }

# Seconds since the epoch, with nanoseconds.
now() { date +%s.%N; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/musharaka-bench.XXXXXX")
pid=""
cleanup() {
    local rc=$?
    if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 1 100); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    fi
    if [[ "${BENCH_KEEP:-0}" == 1 || $rc -ne 0 ]]; then
        echo "bench.sh: temporary files kept in $tmp" >&2
    else
        rm -rf "$tmp"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A free TCP port on 127.0.0.1 (a small race with other programs remains).
free_port() {
    local port
    for _ in $(seq 1 50); do
        port=$((20000 + RANDOM % 40000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "$port"
            return 0
        fi
    done
    echo "bench.sh: no free port found" >&2
    return 1
}

vm() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/$pid/status"; }

log "building the release binary"
cargo build --release --locked --bin musharaka

port=$(free_port)
base="http://127.0.0.1:$port"
mkdir -p "$tmp/data" "$tmp/public" "$tmp/news"
cat >"$tmp/musharaka.toml" <<EOF
data_dir = "$tmp/data"
feeds_dir = "$repo/feeds"
public_base_url = "$base/"

[http]
listen = "127.0.0.1:$port"
max_body_bytes = 1048576
request_timeout = "30s"
shutdown_grace = "5s"

[output]
dir = "$tmp/public"

[log]
format = "text"
filter = "warn"
EOF

log "starting the daemon on $base (logs: $tmp/daemon.log)"
# No MUSHARAKA_* variable of the caller may redirect the bench daemon.
env -u MUSHARAKA_DATA_DIR -u MUSHARAKA_LISTEN -u MUSHARAKA_PUBLIC_BASE_URL \
    -u MUSHARAKA_CONFIG -u RUST_LOG \
    "$bin" run --config "$tmp/musharaka.toml" >"$tmp/daemon.log" 2>&1 &
pid=$!
ready=0
for _ in $(seq 1 200); do
    if ! kill -0 "$pid" 2>/dev/null; then
        echo "bench.sh: the daemon exited:" >&2
        cat "$tmp/daemon.log" >&2
        exit 1
    fi
    if curl -fsS -o /dev/null "$base/readyz" 2>/dev/null; then
        ready=1
        break
    fi
    sleep 0.1
done
if [[ $ready != 1 ]]; then
    echo "bench.sh: not ready after 20 s" >&2
    cat "$tmp/daemon.log" >&2
    exit 1
fi
rss_start=$(vm VmRSS)

# The generated admin token, as an Authorization header file (not on argv).
printf 'Authorization: Bearer %s\n' "$(tr -d '[:space:]' <"$tmp/data/admin.token")" >"$tmp/auth.hdr"
chmod 600 "$tmp/auth.hdr"

log "seeding $items bilingual news items ($seed_jobs concurrent creates)"
ar_titles=("إطلاق خدمة تجديد بطاقة الهوية إلكترونياً عبر البوابة"
    "وزارة الصحة تعلن مواعيد حملة التطعيم الموسمية"
    "تمديد فترة التسجيل في نظام القبول الموحد"
    "تحذير من رسائل احتيالية تنتحل صفة الجهات الحكومية")
en_titles=("ID card renewal is now available online through the portal"
    "Ministry of Health announces the seasonal vaccination campaign"
    "Registration in the unified admission system extended"
    "Warning about fraudulent messages impersonating government bodies")
categories=('"خدمات إلكترونية","e-services"' '"صحة"' '"تعليم"' '"تنبيهات"')
ar_text="أعلنت الجهة المختصة اليوم عن إتاحة الخدمة لجميع المواطنين والمقيمين عبر البوابة الإلكترونية دون الحاجة إلى مراجعة مراكز الخدمة، ويمكن للمستفيدين تقديم الطلب ومتابعة حالته من حساباتهم الشخصية."
en_text="The competent authority announced today that the service is available to all citizens and residents through the e-portal; beneficiaries can apply and follow the status from their personal accounts."
for ((i = 1; i <= items; i++)); do
    k=$((i % 4))
    media=""
    if ((i % 3 == 0)); then
        media=",\"media\":[{\"url\":\"https://omanportal.gov.om/media/news-$i.jpg\",\"mime_type\":\"image/jpeg\",\"length\":$((150000 + i))}]"
    fi
    printf '{"title":{"ar":"%s (%d)","en":"%s (%d)"},"body":{"ar":"<p>%s</p><p><strong>رقم الإعلان %d</strong> <a href='"'"'https://omanportal.gov.om/services/%d'"'"'>التفاصيل</a></p>","en":"<p>%s</p><p><strong>Notice no. %d</strong> <a href='"'"'https://omanportal.gov.om/services/%d'"'"'>Details</a></p>"},"categories":[%s]%s}\n' \
        "${ar_titles[k]}" "$i" "${en_titles[k]}" "$i" "$ar_text" "$i" "$i" "$en_text" "$i" "$i" \
        "${categories[k]}" "$media" >"$tmp/news/$i.json"
done
t0=$(now)
seq 1 "$items" | xargs -P "$seed_jobs" -I{} \
    curl -sS -o /dev/null -w '%{http_code}\n' -X POST \
    -H "@$tmp/auth.hdr" -H 'Content-Type: application/json' \
    --data-binary "@$tmp/news/{}.json" "$base/api/v1/news" >"$tmp/seed.codes"
t1=$(now)
created=$(grep -c '^201$' "$tmp/seed.codes" || true)
if [[ "$created" != "$items" ]]; then
    echo "bench.sh: only $created of $items creates returned 201:" >&2
    sort "$tmp/seed.codes" | uniq -c >&2
    exit 1
fi
seed_secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
creates_per_sec=$(awk -v n="$items" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", n / (b - a) }')
echo "created $items items in ${seed_secs}s: $creates_per_sec creates/s" >&2

feed="$base/feeds/news-ar.rss"
etag_of() { curl -fsS -o /dev/null -D - "$feed" | tr -d '\r' | awk -F': ' 'tolower($1) == "etag" { print $2 }'; }

# Renders run after the creates returned: wait until the feed stops changing
# (same ETag 2 s apart), at most 120 s.
log "waiting for the feeds to settle"
etag=$(etag_of)
settled=0
for _ in $(seq 1 60); do
    sleep 2
    next=$(etag_of)
    if [[ "$next" == "$etag" ]]; then
        settled=1
        break
    fi
    etag=$next
done
if [[ $settled != 1 ]]; then
    echo "bench.sh: $feed still changing after 120 s" >&2
    exit 1
fi
rss_seeded=$(vm VmRSS)
hwm_seeded=$(vm VmHWM)

# Sanity checks: the representations the runs below should get.
code_304=$(curl -sS -o /dev/null -w '%{http_code}' -H "If-None-Match: $etag" "$feed")
enc_br=$(curl -sS -o /dev/null -D - -H 'Accept-Encoding: br' "$feed" | tr -d '\r' | awk -F': ' 'tolower($1) == "content-encoding" { print $2 }')
size_id=$(curl -sS -o /dev/null -w '%{size_download}' "$feed")
size_br=$(curl -sS -o /dev/null -w '%{size_download}' -H 'Accept-Encoding: br' "$feed")
if [[ "$code_304" != 304 || "$enc_br" != br ]]; then
    echo "bench.sh: unexpected responses (If-None-Match: $code_304, br: '$enc_br')" >&2
    exit 1
fi
echo "feed $feed: ETag $etag, identity $size_id B, brotli $size_br B" >&2

# run NAME [wrk header args...]: one wrk run; results in $tmp/wrk-NAME.txt.
run() {
    local name=$1
    shift
    log "wrk $name: -t$threads -c$connections -d${seconds}s $*"
    wrk -t"$threads" -c"$connections" -d"${seconds}s" --latency "$@" "$feed" | tee "$tmp/wrk-$name.txt" >&2
    if grep -q -e 'Non-2xx or 3xx' -e 'Socket errors' "$tmp/wrk-$name.txt"; then
        echo "bench.sh: wrk $name reported errors (see above)" >&2
        exit 1
    fi
}
rps() { awk '$1 == "Requests/sec:" { printf "%.0f", $2 }' "$tmp/wrk-$1.txt"; }
lat() { awk -v p="$2" '$1 == p { print $2; exit }' "$tmp/wrk-$1.txt"; }

run 200-identity
run 200-brotli -H 'Accept-Encoding: br'
run 304 -H "If-None-Match: $etag"

rss_end=$(vm VmRSS)
hwm_end=$(vm VmHWM)

# Stop the daemon before the render benchmarks so they have the CPU.
kill -TERM "$pid"
wait "$pid" || true
pid=""

declare -a crit=()
if [[ $criterion == 1 ]]; then
    read -r -a crit_args <<<"${BENCH_CRITERION_ARGS---quick}"
    log "cargo bench --bench render -- ${crit_args[*]}"
    cargo bench --locked --bench render -- "${crit_args[@]}" 2>&1 | tee "$tmp/criterion.txt" >&2
    # "render/news-ar/all-current" then, a few lines on, "thrpt: [lo mid hi]".
    mapfile -t crit < <(awk '
        /^render/ { name = $1 }
        /thrpt:/ && name != "" {
            for (i = 1; i <= NF; i++) if ($i ~ /elem\/s/) { n++; if (n == 2) { printf "%s %s %s\n", name, $(i - 1), $i } }
            n = 0; name = ""
        }' "$tmp/criterion.txt")
fi

declare -a deliv=()
if [[ $delivery == 1 ]]; then
    log "cargo bench --bench delivery"
    # Its summary goes to stdout: lines "delivery <measure>  <value>".
    cargo bench --locked --bench delivery 2>&1 | tee "$tmp/delivery.txt" >&2
    mapfile -t deliv < <(grep '^delivery ' "$tmp/delivery.txt" | grep -v '^delivery [a-z]*: ')
fi

mib() { awk -v k="$1" 'BEGIN { printf "%.1f MiB", k / 1024 }'; }
{
    printf '\nMusharaka benchmark (%s, %s cores, wrk -t%s -c%s -d%ss)\n' \
        "$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo '?')" "$(nproc)" "$threads" "$connections" "$seconds"
    printf '%-40s %s\n' "measure" "value"
    printf '%-40s %s\n' "----------------------------------------" "------------------------------"
    for line in "${crit[@]}"; do
        read -r name value unit <<<"$line"
        printf '%-40s %s %s\n' "$name" "$value" "${unit/elem/items}"
    done
    for line in "${deliv[@]}"; do
        printf '%s\n' "$line"
    done
    printf '%-40s %s creates/s (%s items in %ss, %s concurrent)\n' "seed POST /api/v1/news" "$creates_per_sec" "$items" "$seed_secs" "$seed_jobs"
    for name in 200-identity 200-brotli 304; do
        printf '%-40s %s req/s, p50 %s, p99 %s\n' "GET /feeds/news-ar.rss $name" "$(rps "$name")" "$(lat "$name" 50%)" "$(lat "$name" 99%)"
    done
    printf '%-40s %s B identity, %s B brotli\n' "news-ar.rss size" "$size_id" "$size_br"
    printf '%-40s %s\n' "RSS at start / after seed / at end" "$(mib "$rss_start") / $(mib "$rss_seeded") / $(mib "$rss_end")"
    printf '%-40s %s\n' "peak RSS (VmHWM) after seed / at end" "$(mib "$hwm_seeded") / $(mib "$hwm_end")"
}
