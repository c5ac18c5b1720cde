/*
 * err.c - message and name tables for duet_err_t, generated from DUET_ERR_LIST.
 * Freestanding: also linked into core-1 programs.
 */
#include "duet/err.h"

#define MSG_(name, msg) msg,
#define NAME_(name, msg) #name,
static const char *const messages[] = {DUET_ERR_LIST(MSG_)};
static const char *const names[] = {DUET_ERR_LIST(NAME_)};

const char *duet_err_str(duet_err_t e)
{
    if ((unsigned)e >= DUET_ERR__COUNT)
        return "unknown error";
    return messages[e];
}

const char *duet_err_name(duet_err_t e)
{
    if ((unsigned)e >= DUET_ERR__COUNT)
        return "UNKNOWN";
    return names[e];
}
