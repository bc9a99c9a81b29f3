/* Inside the demo generator: the seeded PRNG and the name and place tables of demo_names.c. */
#ifndef EB_DEMO_INT_H
#define EB_DEMO_INT_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

/* xoshiro256** seeded through splitmix64: fast, small and the same on every platform, so a
 * seed gives the same city everywhere. */
struct eb__demo_rng {
    uint64_t s[4];
};

static inline uint64_t eb__demo_splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static inline void eb__demo_rng_seed(struct eb__demo_rng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        r->s[i] = eb__demo_splitmix64(&seed);
}

static inline uint64_t eb__demo_rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static inline uint64_t eb__demo_rng_next(struct eb__demo_rng *r)
{
    uint64_t *s = r->s;
    uint64_t out = eb__demo_rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = eb__demo_rotl(s[3], 45);
    return out;
}

/** A value in [0, n); the tiny modulo bias is irrelevant for synthetic data. */
static inline uint32_t eb__demo_below(struct eb__demo_rng *r, uint32_t n)
{
    return (uint32_t)((eb__demo_rng_next(r) >> 32) % n);
}

/** A value in [lo, hi]. */
static inline int eb__demo_range(struct eb__demo_rng *r, int lo, int hi)
{
    return lo + (int)eb__demo_below(r, (uint32_t)(hi - lo + 1));
}

/** A double in [0, 1). */
static inline double eb__demo_unit(struct eb__demo_rng *r)
{
    return (double)(eb__demo_rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

/* ---- names (demo_names.c) --------------------------------------------------------------- */

#define EB__DEMO_SURNAME_SLOTS 4096

/** Lookup tables built once per run so that drawing a name costs a few array reads. */
struct eb__demo_names {
    uint8_t surname_slot[EB__DEMO_SURNAME_SLOTS]; /* slot -> surname index, by frequency */
};

void eb__demo_names_init(struct eb__demo_names *n);
/** Writes a person name (surname + 1-2 given characters) into out; returns its length. */
size_t eb__demo_person_name(const struct eb__demo_names *n, struct eb__demo_rng *r, enum eb_sex sex,
                            char *out, size_t cap);

/** Chinese numeral for 1..99 ("一", "十二", "三十"); out needs 10 bytes. */
void eb__demo_cn_number(int v, char out[16]);

struct eb__demo_district {
    const char *suffix; /* "01", "21", "81" ... the last two digits of the division code */
    const char *name;   /* "明德区" */
    int urban;          /* 2 = 市辖区, 1 = 县级市, 0 = 县 */
    double lat, lon;    /* centre */
};

extern const struct eb__demo_district eb__demo_districts[9];
extern const char *const eb__demo_towns[]; /* town names without "镇" */
extern const size_t eb__demo_n_towns;
extern const char *const eb__demo_villages[]; /* village names without "村" */
extern const size_t eb__demo_n_villages;
extern const char *const eb__demo_roads[]; /* "文化路", "建设街" ... */
extern const size_t eb__demo_n_roads;
extern const char *const eb__demo_motto_names[]; /* "育才", "实验" ... for 学校 names */
extern const size_t eb__demo_n_motto_names;
extern const char *const eb__demo_majors[]; /* vocational majors for class names */
extern const size_t eb__demo_n_majors;

#endif
