/*
 * Validation of the codes the registry keeps: citizen ID numbers (GB 11643, ISO 7064 MOD 11-2),
 * national student numbers (G/J/L + 18), 10-digit school identifiers, GB/T 2260 division
 * codes, 办学类型 (JY/T 1001) and 城乡类型 codes, calendar dates.
 *
 * Each check returns 0 or EB_EINVAL and, on failure, sets *why to a static English reason
 * (why may be NULL). The reasons are message keys for the error catalogue as well.
 */
#ifndef EB_REGISTRY_IDS_H
#define EB_REGISTRY_IDS_H

#include "store/store.h"

/** The check character ('0'..'9' or 'X') for the first 17 digits; 0 if they are not digits. */
char eb_citizen_id_check_char(const char *first17);
/** 18 characters, digits + check char, a real birth date not in the future and not before
 * 1900, a plausible region code (province prefix 11..65, 71, 81, 82). */
int eb_citizen_id_check(const char *id, const char **why);
/** Birth date "YYYY-MM-DD" and sex (odd sequence = male) encoded in a valid citizen ID. */
int eb_citizen_id_birth(const char *id, char out[11]);
enum eb_sex eb_citizen_id_sex(const char *id);
/** "G" + valid citizen ID; "J" + 18 chars with a valid MOD 11-2 check; "L" + 6 + 8-digit date
 * + 4 digits. */
int eb_student_no_check(const char *no, const char **why);
/** 10 digits: a known school category (11, 21, 22, 31..37, 41, 42, 51, 91..93) and a province
 * code. */
int eb_school_code_check(const char *code, const char **why);
/** 6 digits, a known province prefix. */
int eb_division_code_check(const char *code, const char **why);
/** A known 办学类型 code; *stages (may be NULL) gets its enum eb_stage bits. */
int eb_running_type_check(const char *code, unsigned *stages, const char **why);
/** The Chinese name of a running-type code, or NULL. */
const char *eb_running_type_name(const char *code);
/** 111, 112, 121, 122, 123, 210, 220. */
int eb_urban_rural_check(const char *code, const char **why);
/** "YYYY-MM-DD", a real calendar date between 1900-01-01 and 2100-12-31. */
int eb_date_check(const char *ymd, const char **why);
/** Masks a citizen ID for display: first 6 and last 4 kept, e.g. "110105********002X". */
void eb_citizen_id_mask(const char *id, char out[19]);

#endif
