# target-sc-periph.sh - scenario "periph" of scripts/target-test.sh (sourced by it):
# examples/idf/peripherals on the model. Core 0 claims GPIO 4 (a second claim is
# refused), slot A's gpio_wave toggles it through hal/gpio_ll.h at 1 kHz, core 0 reads
# the GPIO_OUT register and core 1's edge count; duet_esp_stop() releases the pin. Then
# core 0 claims timer group 1 timer 0 and the linked timer_irq takes its 1 ms alarm as a
# core-1 interrupt. What the model shows: GPIO_OUT is readable (the pin's bit changes),
# the timer group raises its interrupt through core 1's half of the interrupt matrix.
EXTRA_SCENARIOS+=(sc_periph)

# in_range VALUE LO HI
in_range() { [ -n "$1" ] && [ "$1" -ge "$2" ] && [ "$1" -le "$3" ]; }

sc_periph() {
    want periph || return 0
    local b=$OUT/idf/periph log=$LOGS/periph.log
    idf_build periph "$ROOT/examples/idf/peripherals" ||
        { fail periph "idf.py build failed ($LOGS/idf-periph.log)"; return; }
    flash_image "$b" "$OUT/run/periph.bin" || { fail periph "merge_bin failed"; return; }
    boot "$OUT/run/periph.bin" "$log" 300 'PERIPH done'
    if [ "$(boots_in "$log")" -ne 1 ] || ! no_panic "$log" || ! grep -q 'PERIPH done' "$log"; then
        fail periph "core 0 reset, panicked or did not finish (log $log)"
        return
    fi

    # Claims: recorded, a second one refused, shown, released on stop.
    if grep -q 'PERIPH claim gpio 4: ok' "$log" && grep -q 'PERIPH second claim gpio 4: busy' "$log" &&
        grep -q 'PERIPH claims running: gpio 4$' "$log" && grep -q 'PERIPH claims running: timer 1.0$' "$log" &&
        [ "$(grep -c 'PERIPH claims after stop: none' "$log")" -eq 2 ] &&
        grep -q 'claims released (gpio mask 0x10, timer mask 0x0)' "$log" &&
        grep -q 'claims released (gpio mask 0x0, timer mask 0x4)' "$log"; then
        pass periph-claims "gpio 4 and timer 1.0 claimed, second claim busy, both released by duet_esp_stop"
    else
        fail periph-claims "claim/refusal/release lines missing (log $log)"
    fi

    # GPIO: the pin's GPIO_OUT bit seen changing by core 0, ~2000 edges/s counted by core 1.
    local line changes high rate
    line=$(grep -Eo 'PERIPH gpio out_changes=.*' "$log" | head -1)
    changes=$(sed -nE 's/.*out_changes=([0-9]+).*/\1/p' <<<"$line")
    high=$(sed -nE 's/.*\(high ([0-9]+)\).*/\1/p' <<<"$line")
    rate=$(sed -nE 's/.*edges_per_s=([0-9]+).*/\1/p' <<<"$line")
    if in_range "$changes" 2 400 && in_range "$high" 1 399 && in_range "$rate" 1900 2100; then
        pass periph-gpio "GPIO_OUT bit 4 changed $changes times in 400 samples (high $high), core 1 counts $rate edges/s (1 kHz wave: 2000)"
    else
        fail periph-gpio "want GPIO_OUT bit 4 changing and ~2000 edges/s, got: ${line:-no line} (log $log)"
    fi

    # Timer: TG1 timer 0's alarm (1 ms) routed to core 1: ~1000 interrupts per second.
    local counts bad=0 n
    counts=$(sed -nE 's/.*PERIPH timer irqs=([0-9]+) per_s=([0-9]+).*/\1 \2/p' "$log")
    n=$(wc -l <<<"$counts")
    while read -r irqs per_s; do
        in_range "$irqs" 950 1050 && in_range "$per_s" 950 1050 || bad=1
    done <<<"$counts"
    if [ -n "$counts" ] && [ "$n" -eq 3 ] && [ "$bad" -eq 0 ] &&
        grep -q 'timer_irq: group 1 timer 0, 1000 us period, source 53 -> CPU interrupt 13' "$log"; then
        pass periph-timer "TG1 timer 0 alarm -> core-1 interrupt 13: $(tr '\n' ' ' <<<"$counts" | sed 's/ $//') (interrupts, per esp_timer second) in three 1 s windows"
    else
        fail periph-timer "want 3 windows of ~1000 interrupts, got: $(tr '\n' ';' <<<"$counts") (log $log)"
    fi
}
