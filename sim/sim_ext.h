/*
 * sim_ext.h - duet-sim's fleet options (pull over HTTPS, MQTT trigger and status),
 * kept out of sim_main.c so that file only forwards to these three calls:
 *
 *   --fleet-manifest URL   poll this signed manifest (docs/fleet.md)
 *   --fleet-ca FILE        trust this CA bundle for HTTPS (default: the system's)
 *   --fleet-period-ms N    poll period (default 60000; 0 = only when triggered)
 *   --fleet-state FILE     device id + last accepted sequence (default FLASH.fleet)
 *   --device-id ID         the device's id (default: made once, kept in the state)
 *   --mqtt HOST[:PORT]     broker for "check now" and the retained status
 *   --mqtt-prefix P        topic prefix (default "duet")
 *   --mqtt-ca FILE         TLS to the broker
 *   --mqtt-status-ms N     periodic status publish (default 5000)
 */
#ifndef DUET_SIM_EXT_H
#define DUET_SIM_EXT_H

#include "sim.h"

/** An option of ours? @return arguments consumed (1 or 2), 0 if not ours, -1 if its
 *  value is missing or bad (message printed). */
int sim_ext_option(const char *arg, const char *value);
/** Usage lines for the options above. */
const char *sim_ext_usage(void);
/** Start what the options asked for (nothing if none). @return 0, or -1 (printed). */
int sim_ext_start(duet_sim_t *sim, const char *flash_path, bool print);
/** Stop it again (before duet_sim_close). */
void sim_ext_stop(void);

#endif /* DUET_SIM_EXT_H */
