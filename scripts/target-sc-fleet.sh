# target-sc-fleet.sh - fleet updates on the emulated ESP32-S3 (sourced by target-test.sh).
#
# examples/idf/fleet on the model pulls signed releases from nginx over TLS and listens
# to mosquitto, both on the PC's loopback (tests/fleet/fleet_lib.sh), reached from the
# guest at 10.0.2.2 (QEMU user networking). The firmware trusts the test CA through
# ESP-IDF's certificate bundle (MBEDTLS_CUSTOM_CERTIFICATE_BUNDLE), so the TLS path is
# the product's: esp_http_client + esp_crt_bundle + mbedTLS. Judged from the serial log,
# nginx's access log and the broker's retained status topic.
#   fleet-current      first check at boot: the published v1 is the running release
#   fleet-mqtt-pull    v2 published, a "check" message on MQTT: pulled, verified, running
#   fleet-status       the retained duet/<id>/status names v2 and the update
#   fleet-unchanged    another check: one conditional GET answered 304, no download
#   fleet-resume       v3's image passes a proxy that cuts the first transfer: resumed
#                      with Range (206), installed
#   fleet-corrupt      v4's image has a flipped byte on the server: IMG_BAD_HASH, v3 runs on
#   fleet-replay       the old v1 manifest served again: MANIFEST_REPLAY, v3 runs on
#   fleet-replay-reboot  after a reboot (sequence from NVS): still refused
EXTRA_SCENARIOS+=(sc_fleet)

. "$ROOT/tests/fleet/fleet_lib.sh"

fleet_fail() { echo "fleet: $*" >&2; return 1; } # a scenario fails; target-test goes on

# fl_wait PATTERN SECONDS [COUNT]: until the serial log has COUNT lines matching PATTERN.
fl_wait() {
    local i
    for i in $(seq 1 "$2"); do
        [ "$(grep -Ec "$1" "$FL_LOG" 2>/dev/null)" -ge "${3:-1}" ] && return 0
        sleep 1
    done
    return 1
}

fl_check() { mosquitto_pub -h 127.0.0.1 -p "$MQTT_PORT" -t "duet/$FL_ID/check" -m now -q 1; }

fl_publish() { # IMAGE [publish options]: into www/rel; a new mtime (ETag) each time
    "$DUET" publish "$1" --key "$OUT/keys/dev.pem" -o "$FL_W/www/rel" "${@:2}" >>"$FL_W/publish.log" || return 1
    FL_STAMP=$((FL_STAMP + 10))
    touch -d "@$FL_STAMP" "$FL_W/www/rel/counter.json"
}

fl_boot() { # start the model in the background on the kept flash image
    QEMU_NIC="-nic user,model=open_eth" boot "$OUT/run/fleet.bin" "$FL_LOG" 900 &
    FL_QEMU=$!
}

fl_stop() {
    touch "$FL_LOG.stop"
    wait "$FL_QEMU" 2>/dev/null
}

sc_fleet() {
    want fleet || return 0
    FL_W=$OUT/fleet
    FL_ID=qemu1
    FL_LOG=$LOGS/fleet.log
    local https=${TT_FLEET_HTTPS_PORT:-18443} mqtt=${TT_FLEET_MQTT_PORT:-18883}
    mkdir -p "$FL_W/www/rel"
    rm -f "$FL_W"/www/rel/* "$FL_W/access.log" "$FL_W/publish.log"
    ota_keys || { fail fleet "duet keygen failed"; return; }
    # The CA is made once per output directory: it is built into the firmware's bundle.
    if [ ! -f "$FL_W/ca.crt" ]; then
        FLEET_SAN_EXTRA=",IP:10.0.2.2" fleet_tls "$FL_W" || { fail fleet "openssl failed"; return; }
    fi
    # ESP-IDF's bundle generator reads only *.pem and *.der files: it skips "ca.crt"
    # without a word (gen_crt_bundle.py add_from_file) and the handshake then fails.
    cp "$FL_W/ca.crt" "$FL_W/ca.pem"
    cat >"$FL_W/sdkconfig.fleet.new" <<EOF
CONFIG_DUET_FLEET_MANIFEST_URL="https://10.0.2.2:$https/rel/counter.json"
CONFIG_DUET_FLEET_PERIOD_S=0
CONFIG_DUET_FLEET_DEVICE_ID="$FL_ID"
CONFIG_DUET_FLEET_MQTT_URI="mqtt://10.0.2.2:$mqtt"
CONFIG_DUET_FLEET_MQTT_STATUS_S=0
CONFIG_DUET_FLEET_TIMEOUT_MS=20000
CONFIG_MBEDTLS_CUSTOM_CERTIFICATE_BUNDLE=y
CONFIG_MBEDTLS_CUSTOM_CERTIFICATE_BUNDLE_PATH="$FL_W/ca.pem"
EOF
    cmp -s "$FL_W/sdkconfig.fleet.new" "$FL_W/sdkconfig.fleet" || mv "$FL_W/sdkconfig.fleet.new" "$FL_W/sdkconfig.fleet"
    idf_build fleet "$ROOT/examples/idf/fleet" "$ROOT/tests/target/sdkconfig.qemu-eth" \
        "$OUT/keys/sdkconfig.signing" "$FL_W/sdkconfig.fleet" ||
        { fail fleet "idf.py build failed ($LOGS/idf-fleet.log)"; return; }
    flash_image "$OUT/idf/fleet" "$OUT/run/fleet.bin" || { fail fleet "merge_bin failed"; return; }

    # 2 KiB TLS records: a cut inside the 10 KB image leaves whole records (bytes the
    # device can use) before it, so the resume must ask for the rest with Range.
    FLEET_SSL_BUFFER=2k FLEET_HTTPS_PORT=$https fleet_nginx "$FL_W" || { fail fleet "nginx did not start"; return; }
    FLEET_MQTT_PORT=$mqtt fleet_mosquitto "$FL_W" || { fleet_cleanup; fail fleet "mosquitto did not start"; return; }
    local img=$OUT/host/images elf=$OUT/host/xtensa/counter_v2/counter_v2.elf k=$OUT/keys/dev.pem
    FL_STAMP=$(date +%s)
    "$DUET" sign --key "$k" "$img/counter.esp32s3.img" -o "$FL_W/v1.img" >/dev/null &&
        "$DUET" sign --key "$k" "$img/counter_v2.esp32s3.img" -o "$FL_W/v2.img" >/dev/null &&
        "$DUET" pack --sign "$k" --name counter --version 3.0.0 --security-counter 1 "$elf" -o "$FL_W/v3.img" >/dev/null &&
        "$DUET" pack --sign "$k" --name counter --version 4.0.0 --security-counter 1 "$elf" -o "$FL_W/v4.img" >/dev/null &&
        fl_publish "$FL_W/v1.img" && cp "$FL_W/www/rel/counter.json" "$FL_W/v1.json" ||
        { fleet_cleanup; fail fleet "signing or publishing failed ($FL_W/publish.log)"; return; }

    fl_boot
    if fl_wait 'is the running release' 240; then
        pass fleet-current "first check at boot over TLS (CA bundle): counter 1.0.0 is the running release"
    else
        fail fleet-current "no check result (log $FL_LOG)"
    fi
    fl_wait 'duet_mqtt: connected' 60 || fail fleet-mqtt "no MQTT connection (log $FL_LOG)"

    # v2 and an MQTT trigger (no polling: period 0)
    fl_publish "$FL_W/v2.img" && fl_check
    if fl_wait 'installed counter 2.0.0' 240; then
        pass fleet-mqtt-pull "an MQTT \"check\" made the device pull counter 2.0.0 (sequence 2) and run it"
    else
        fail fleet-mqtt-pull "v2 not installed after the MQTT check (log $FL_LOG)"
    fi
    local st i
    for i in $(seq 1 30); do
        st=$(mosquitto_sub -h 127.0.0.1 -p "$MQTT_PORT" -t "duet/$FL_ID/status" -C 1 -W 5 2>/dev/null)
        [[ "$st" == *'"last_action":"updated"'* && "$st" == *'"version":"2.0.0"'* ]] && break
        sleep 2
    done
    echo "$st" >"$LOGS/fleet-status.json"
    if [[ "$st" == *'"online":true'* && "$st" == *'"last_action":"updated"'* && "$st" == *'"version":"2.0.0"'* ]]; then
        pass fleet-status "retained duet/$FL_ID/status: online, last_action updated, version 2.0.0"
    else
        fail fleet-status "retained status does not show v2 (got: ${st:0:200})"
    fi

    # unchanged: one 304, no image fetched
    local gets
    gets=$(grep -c 'counter-2.0.0.img' "$FL_W/access.log")
    fl_check
    for i in $(seq 1 60); do grep -q 'GET /rel/counter.json 304' "$FL_W/access.log" && break; sleep 1; done
    if grep -q 'GET /rel/counter.json 304' "$FL_W/access.log" && [ "$(grep -c 'counter-2.0.0.img' "$FL_W/access.log")" = "$gets" ]; then
        pass fleet-unchanged "a check of the same manifest cost one 304 (If-None-Match), no download"
    else
        fail fleet-unchanged "no 304, or the image was fetched again ($FL_W/access.log)"
    fi

    # resume: the image goes through a proxy that cuts the first transfer
    local cut=$OUT/host/bin/fleet_cutproxy
    rm -f "$FL_W/proxy.port" "$FL_W/cut.done"
    "$cut" "$HTTPS_PORT" 6000 "$FL_W/proxy.port" "$FL_W/cut.done" >"$FL_W/cutproxy.log" 2>&1 &
    local cpid=$!
    FLEET_PIDS="$FLEET_PIDS $cpid"
    for i in $(seq 1 50); do [ -s "$FL_W/proxy.port" ] && break; sleep 0.1; done
    fl_publish "$FL_W/v3.img" --base-url "https://10.0.2.2:$(cat "$FL_W/proxy.port")/rel/" && fl_check
    if fl_wait 'installed counter 3.0.0' 300 && [ -e "$FL_W/cut.done" ] &&
        grep -q 'counter-3.0.0.img 206 "bytes=[1-9]' "$FL_W/access.log" && grep -q 'resuming' "$FL_LOG"; then
        pass fleet-resume "the first image transfer was cut after 6000 bytes (TLS included) of a 10 KB image; resumed with Range (206), installed 3.0.0"
    else
        fail fleet-resume "not resumed/installed (log $FL_LOG, $FL_W/access.log)"
    fi

    # corrupt image on the server
    fl_publish "$FL_W/v4.img"
    printf '\xff' | dd of="$FL_W/www/rel/counter-4.0.0.img" bs=1 seek=3000 conv=notrunc status=none
    fl_check
    if fl_wait 'image refused: IMG_BAD_HASH' 240 && ! grep -q 'installed counter 4.0.0' "$FL_LOG"; then
        pass fleet-corrupt "a flipped byte in the served image: IMG_BAD_HASH, 3.0.0 runs on"
    else
        fail fleet-corrupt "corrupt image not refused as IMG_BAD_HASH (log $FL_LOG)"
    fi

    # replay of the old manifest, before and after a reboot
    cp "$FL_W/v1.json" "$FL_W/www/rel/counter.json"
    FL_STAMP=$((FL_STAMP + 10))
    touch -d "@$FL_STAMP" "$FL_W/www/rel/counter.json"
    fl_check
    if fl_wait 'manifest refused: MANIFEST_REPLAY' 120; then
        pass fleet-replay "the old v1 manifest (sequence 1) served again: MANIFEST_REPLAY"
    else
        fail fleet-replay "replayed manifest not refused (log $FL_LOG)"
    fi
    fl_stop
    cp "$FL_LOG" "$LOGS/fleet-1.log"
    fl_boot
    if fl_wait 'manifest refused: MANIFEST_REPLAY' 240 && fl_wait 'last sequence 3' 5 &&
        ! grep -q 'installed counter' "$FL_LOG" && grep -Eq 'counter.*3\.0\.0' "$FL_LOG"; then
        pass fleet-replay-reboot "after a reboot (sequence 3 from NVS): the v1 manifest still refused, 3.0.0 runs"
    else
        fail fleet-replay-reboot "after the reboot (log $FL_LOG)"
    fi
    fl_stop
    if ! no_panic "$LOGS/fleet-1.log" || ! no_panic "$FL_LOG"; then
        fail fleet-core0 "core 0 panicked (logs $LOGS/fleet-1.log, $FL_LOG)"
    fi
    fleet_cleanup
}
