# fleet_lib.sh - shared by the fleet tests and `make demo-fleet` (sourced, POSIX sh).
#
# Real servers on loopback only, started here and stopped by fleet_cleanup:
#   fleet_tls DIR          a test CA made now (openssl) + a server cert for 127.0.0.1
#                          (and FLEET_SAN_EXTRA, e.g. ",IP:10.0.2.2" for the QEMU guest)
#   fleet_nginx DIR        nginx over TLS serving DIR/www; $HTTPS_PORT; TLS records of
#                          FLEET_SSL_BUFFER bytes (default 16k, nginx's); access log
#                          DIR/access.log: "METHOD URI STATUS RANGE BYTES"
#   fleet_mosquitto DIR    mosquitto; $MQTT_PORT
# Ports are picked at random and retried when taken, unless FLEET_HTTPS_PORT /
# FLEET_MQTT_PORT fix them (a firmware built with the URL in it). Every process started is
# remembered in $FLEET_PIDS and killed by its id.
FLEET_PIDS=${FLEET_PIDS:-}

fleet_fail() { echo "FAIL: $*"; for f in ${FLEET_LOGS:-}; do [ -f "$f" ] && { echo "--- $f"; tail -n 25 "$f"; }; done; exit 1; }

fleet_cleanup() {
    for p in $FLEET_PIDS; do kill "$p" 2>/dev/null || true; done
    for p in $FLEET_PIDS; do wait "$p" 2>/dev/null || true; done
    FLEET_PIDS=
}

fleet_port() { # a port number in 20000..59999 (not checked: starters retry)
    echo $((20000 + $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 40000))
}

# fleet_await PID PROBE...: a server just started as PID is up once PROBE succeeds
# (5 s at most). Up: remembered in FLEET_PIDS, status 0. It exited (port taken) or never
# answered: reaped, status 1, so the caller tries another port.
fleet_await() {
    pid=$1
    shift
    for _ in $(seq 50); do
        "$@" 2>/dev/null && break
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        FLEET_PIDS="$FLEET_PIDS $pid"
        return 0
    fi
    wait "$pid" 2>/dev/null || true
    return 1
}

fleet_tls() {
    d=$1
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
        -keyout "$d/ca.key" -out "$d/ca.crt" -subj /CN=duet-test-ca >/dev/null 2>&1 || fleet_fail "openssl: CA"
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
        -keyout "$d/server.key" -out "$d/server.csr" -subj /CN=127.0.0.1 >/dev/null 2>&1 || fleet_fail "openssl: CSR"
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost%s\n' "${FLEET_SAN_EXTRA:-}" > "$d/san.ext"
    openssl x509 -req -in "$d/server.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" -CAcreateserial \
        -days 2 -extfile "$d/san.ext" -out "$d/server.crt" >/dev/null 2>&1 || fleet_fail "openssl: server cert"
}

fleet_nginx() {
    d=$1
    command -v nginx >/dev/null 2>&1 || NGINX=/usr/sbin/nginx
    mkdir -p "$d/www" "$d/nginx-tmp"
    user=
    [ "$(id -u)" = 0 ] && user="user root;" # workers must read the test's private dir
    for _ in 1 2 3 4 5 6 7 8; do
        HTTPS_PORT=${FLEET_HTTPS_PORT:-$(fleet_port)}
        cat > "$d/nginx.conf" <<CONF
$user
daemon off;
worker_processes 1;
pid $d/nginx.pid;
error_log $d/nginx-error.log;
events { worker_connections 256; }
http {
    log_format duet '\$request_method \$uri \$status "\$http_range" \$body_bytes_sent';
    access_log $d/access.log duet;
    client_body_temp_path $d/nginx-tmp;
    types { application/json json; application/octet-stream img; }
    default_type application/octet-stream;
    server {
        listen 127.0.0.1:$HTTPS_PORT ssl;
        ssl_certificate $d/server.crt;
        ssl_certificate_key $d/server.key;
        ssl_buffer_size ${FLEET_SSL_BUFFER:-16k};
        root $d/www;
    }
}
CONF
        : > "$d/nginx-error.log"
        ${NGINX:-nginx} -p "$d" -c "$d/nginx.conf" -e "$d/nginx-error.log" >/dev/null 2>&1 &
        fleet_await $! curl -s -o /dev/null --cacert "$d/ca.crt" "https://127.0.0.1:$HTTPS_PORT/" && return 0
    done
    fleet_fail "nginx did not start ($d/nginx-error.log)"
}

fleet_mosquitto() {
    d=$1
    for _ in 1 2 3 4 5 6 7 8; do
        MQTT_PORT=${FLEET_MQTT_PORT:-$(fleet_port)}
        printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence false\nlog_dest stdout\n' \
            "$MQTT_PORT" > "$d/mosquitto.conf"
        mosquitto -c "$d/mosquitto.conf" > "$d/mosquitto.log" 2>&1 &
        fleet_await $! mosquitto_pub -h 127.0.0.1 -p "$MQTT_PORT" -t duet/ping -m x && return 0
    done
    fleet_fail "mosquitto did not start ($d/mosquitto.log)"
}

# fleet_wait FILE PATTERN SECONDS: until grep finds PATTERN in FILE.
fleet_wait() {
    n=$(($3 * 10))
    while [ "$n" -gt 0 ]; do
        grep -q -- "$2" "$1" 2>/dev/null && return 0
        sleep 0.1
        n=$((n - 1))
    done
    return 1
}
