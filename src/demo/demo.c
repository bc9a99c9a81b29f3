/* The demo city generator: plans a synthetic prefecture city, then writes it through the store. */
#include "demo/demo.h"

#include "core/err.h"
#include "core/log.h"
#include "core/mem.h"
#include "demo/demo_int.h"
#include "registry/registry_ids.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define CITY_NAME   "示范市"
#define CITY_CODE   "376000"
#define PROVINCE    "37"
#define SCHOOL_YEAR 2026
#define TERM_START  "2026-09-01"
#define ROWS_PER_TX 50000

/* ---- school parts (the stages a school teaches) ----------------------------------------- */

enum part { P_PRE, P_PRI, P_JUN, P_SEN, P_VOC, P_SPE, P_REF, P_TP, N_PARTS };

struct subject_weight {
    const char *name;
    int weight; /* per mille */
};

static const struct subject_weight subj_pre[] = {{"幼儿教育", 1000}, {NULL, 0}};
static const struct subject_weight subj_pri[] = {
    {"语文", 320}, {"数学", 260},        {"外语", 90}, {"道德与法治", 50},
    {"科学", 60},  {"体育与健康", 80},   {"艺术", 80}, {"信息科技", 30},
    {"劳动", 15},  {"综合实践活动", 15}, {NULL, 0}};
static const struct subject_weight subj_jun[] = {
    {"语文", 160}, {"数学", 160},    {"外语", 140}, {"道德与法治", 60}, {"历史", 50},
    {"地理", 50},  {"物理", 70},     {"化学", 50},  {"生物学", 60},     {"体育与健康", 90},
    {"艺术", 70},  {"信息科技", 40}, {NULL, 0}};
static const struct subject_weight subj_sen[] = {
    {"语文", 140}, {"数学", 140}, {"外语", 130}, {"思想政治", 60}, {"历史", 60},
    {"地理", 60},  {"物理", 90},  {"化学", 80},  {"生物学", 80},   {"体育与健康", 70},
    {"艺术", 50},  {"技术", 40},  {NULL, 0}};
static const struct subject_weight subj_voc[] = {
    {"语文", 120},      {"数学", 120},   {"外语", 100}, {"思想政治", 60},
    {"体育与健康", 60}, {"专业课", 540}, {NULL, 0}};
static const struct subject_weight subj_spe[] = {{"语文", 300}, {"数学", 300}, {"体育与健康", 150},
                                                 {"艺术", 150}, {"劳动", 100}, {NULL, 0}};

static const struct part_desc {
    const char *grades[9]; /* grade codes, NULL-terminated when fewer than 9 */
    double ratio;          /* students per full-time teacher (§4.2 example city) */
    int female_pm;         /* share of women among the teachers, per mille */
    const struct subject_weight *subjects;
    const char *class_subjects[3]; /* subject-teacher rows per class besides the head teacher */
} parts[N_PARTS] = {
    [P_PRE] = {{"01", "02", "03"}, 13.9, 970, subj_pre, {"幼儿教育"}},
    [P_PRI] = {{"11", "12", "13", "14", "15", "16"}, 19.5, 750, subj_pri, {"语文", "数学", "外语"}},
    [P_JUN] = {{"21", "22", "23"}, 14.4, 580, subj_jun, {"语文", "数学", "外语"}},
    [P_SEN] = {{"31", "32", "33"}, 12.9, 520, subj_sen, {"语文", "数学", "外语"}},
    [P_VOC] = {{"41", "42", "43"}, 18.4, 500, subj_voc, {"语文", "数学", "外语"}},
    [P_SPE] = {{"11", "12", "13", "14", "15", "16", "21", "22", "23"},
               3.56,
               700,
               subj_spe,
               {"语文", "数学"}},
    [P_REF] = {{"21", "22", "23"}, 3.26, 400, subj_spe, {"语文", "数学"}},
    [P_TP] = {{"11", "12", "13", "14", "15", "16"}, 19.5, 450, subj_pri, {"语文", "数学"}},
};

static const struct grade_info {
    char code[3];
    const char *name;
    const char *class_prefix; /* NULL: vocational classes are named by entry year and major */
    int age;                  /* full years on 1 September of the school year */
} grade_infos[] = {
    {"01", "小班", "小", 3},        {"02", "中班", "中", 4},        {"03", "大班", "大", 5},
    {"11", "一年级", "一年级", 6},  {"12", "二年级", "二年级", 7},  {"13", "三年级", "三年级", 8},
    {"14", "四年级", "四年级", 9},  {"15", "五年级", "五年级", 10}, {"16", "六年级", "六年级", 11},
    {"21", "七年级", "七年级", 12}, {"22", "八年级", "八年级", 13}, {"23", "九年级", "九年级", 14},
    {"31", "高一年级", "高一", 15}, {"32", "高二年级", "高二", 16}, {"33", "高三年级", "高三", 17},
    {"41", "中职一年级", NULL, 15}, {"42", "中职二年级", NULL, 16}, {"43", "中职三年级", NULL, 17},
};

static const struct grade_info *grade_info(const char *code)
{
    for (size_t i = 0; i < sizeof(grade_infos) / sizeof(grade_infos[0]); i++)
        if (strcmp(grade_infos[i].code, code) == 0)
            return &grade_infos[i];
    return &grade_infos[0];
}

static int part_n_grades(enum part p)
{
    int n = 0;
    while (n < 9 && parts[p].grades[n])
        n++;
    return n;
}

/* ---- school kinds (§4.6) ------------------------------------------------------------------ */

enum kind { K_KG, K_PRI, K_TP, K_JUN, K_NINE, K_COMPLETE, K_SENIOR, K_TWELVE, K_SPE, K_REF, K_VOC };

static const struct kind_desc {
    int city_count;
    const char *rt; /* running type; special and vocational schools vary, see running_type() */
    int n_parts;
    enum part parts[3];
    unsigned rural_ok; /* may stand in a 乡村 area */
} kinds[] = {
    [K_KG] = {650, "111", 1, {P_PRE}, 1},
    [K_PRI] = {330, "211", 1, {P_PRI}, 1},
    [K_TP] = {120, "218", 1, {P_TP}, 1},
    [K_JUN] = {95, "311", 1, {P_JUN}, 1},
    [K_NINE] = {60, "312", 2, {P_PRI, P_JUN}, 1},
    [K_COMPLETE] = {15, "341", 2, {P_JUN, P_SEN}, 0},
    [K_SENIOR] = {35, "342", 1, {P_SEN}, 0},
    [K_TWELVE] = {6, "345", 3, {P_PRI, P_JUN, P_SEN}, 0},
    [K_SPE] = {8, "513", 1, {P_SPE}, 0},
    [K_REF] = {2, "371", 1, {P_REF}, 0},
    [K_VOC] = {15, "365", 1, {P_VOC}, 0},
};
#define N_KINDS ((int)(sizeof(kinds) / sizeof(kinds[0])))

/* Student targets per part for the city scale (§4.6), and the expected class size the
 * stream allocation divides by (the mean of class_size() below). */
static const struct {
    double students, class_size;
    int max_streams;
} city_targets[N_PARTS] = {
    [P_PRE] = {125000, 27.0, 5}, [P_PRI] = {364000, 44.0, 8}, [P_JUN] = {169800, 48.7, 14},
    [P_SEN] = {90000, 48.7, 20}, [P_VOC] = {35000, 45.0, 30},
};

/* ---- the plan ----------------------------------------------------------------------------- */

struct pclass {
    uint8_t part, grade; /* grade: index into parts[part].grades */
    uint8_t number;      /* (n)班 within the grade */
    uint8_t size;
};

struct pschool {
    int district;
    enum kind kind;
    const char *rt;
    char ur[4];
    int streams[3]; /* per kind part */
    int first_class, n_classes;
    double lat, lon;
    char name[96];
    char address[160];
    char code[11];
};

struct gen {
    struct eb_db *db;
    struct eb_caller c;
    const struct eb_demo_options *opt;
    struct eb_demo_stats *stats;
    struct eb__demo_rng r;
    struct eb__demo_names names;
    int n_districts;
    const int *district_map; /* index into eb__demo_districts */
    struct pschool *schools;
    int n_schools, cap_schools;
    struct pclass *classes;
    int n_classes, cap_classes;
    int64_t planned_students;
    /* birth dates: day index from 1960-01-01 -> "YYYYMMDD" */
    int n_days;
    char (*ymd)[9];
    uint16_t *seq; /* next citizen-ID sequence per district, day and sex */
    int64_t rows_in_tx;
    int64_t city_id;
    int64_t district_ids[9];
    /* per school, reused */
    int64_t *class_ids;
    struct teacher *teachers;
    int cap_class_ids, cap_teachers;
    /* naming counters */
    int counters[9][N_KINDS][3];
    int city_middle_no;
    /* the demo accounts' people and orgs */
    int demo_school; /* index of school1 in schools, -1 if none */
    int64_t demo_school_id, demo_class_id, demo_teacher_person, demo_student_person;
    int64_t demo_student_district;
    /* progress */
    int progress_tty, progress_decile;
};

struct teacher {
    int64_t person_id, post_id;
    uint8_t part, subject;
};

static void *grow(void *p, int *cap, int need, size_t elem)
{
    if (need <= *cap)
        return p;
    int ncap = *cap ? *cap : 64;
    while (ncap < need)
        ncap *= 2;
    p = eb_xrealloc(p, (size_t)ncap * elem);
    *cap = ncap;
    return p;
}

static int pick_weighted(struct eb__demo_rng *r, const struct subject_weight *w)
{
    int x = (int)eb__demo_below(r, 1000), i = 0;
    for (; w[i + 1].name; i++) {
        x -= w[i].weight;
        if (x < 0)
            return i;
    }
    return i;
}

static int subject_index(const struct subject_weight *w, const char *name)
{
    for (int i = 0; w[i].name; i++)
        if (strcmp(w[i].name, name) == 0)
            return i;
    return -1;
}

/* Class sizes: most classes inside the standard (小学 45, 初中/高中 50), a few over 55
 * (大班额) and a handful over 65 (超大班额) so that the size alerts have something to show. */
static int class_size(struct eb__demo_rng *r, enum part p)
{
    int x = (int)eb__demo_below(r, 1000);
    switch (p) {
    case P_PRE:
        return eb__demo_range(r, 22, 32);
    case P_PRI:
        if (x < 6)
            return eb__demo_range(r, 66, 70);
        if (x < 46)
            return eb__demo_range(r, 56, 65);
        if (x < 126)
            return eb__demo_range(r, 46, 55);
        return eb__demo_range(r, 40, 45);
    case P_JUN:
    case P_SEN:
        if (x < 10)
            return eb__demo_range(r, 66, 72);
        if (x < 60)
            return eb__demo_range(r, 56, 65);
        if (x < 130)
            return eb__demo_range(r, 51, 55);
        return eb__demo_range(r, 45, 50);
    case P_VOC:
        return eb__demo_range(r, 40, 50);
    case P_SPE:
        return eb__demo_range(r, 8, 13);
    case P_REF:
        return eb__demo_range(r, 15, 25);
    default:
        return eb__demo_range(r, 5, 15);
    }
}

/* ---- naming ------------------------------------------------------------------------------- */

static int ur_class(const char *ur)
{
    return ur[0] == '1' ? (ur[1] == '1' ? 0 : 1) : 2; /* 城区, 镇区, 乡村 */
}

static const char *district_name(const struct gen *g, int d)
{
    return eb__demo_districts[g->district_map[d]].name;
}

/* The towns of a district: a distinct slice of the town table, the seat first. */
static const char *town_of(const struct gen *g, int d, int k)
{
    if (k % 6 == 0 && eb__demo_districts[g->district_map[d]].urban == 0)
        return "城关";
    size_t idx = (size_t)(g->district_map[d] * 6 + k % 6) % eb__demo_n_towns;
    return eb__demo_towns[idx == 0 ? 1 : idx];
}

static const char *village_of(int d, int k)
{
    return eb__demo_villages[(size_t)(d * 17 + k) % eb__demo_n_villages];
}

static void ordinal(int v, char out[24])
{
    char cn[16];
    eb__demo_cn_number(v, cn);
    snprintf(out, 24, "第%s", cn);
}

/* A school name that is unique in the city: counters per district, kind and area type. */
static void name_school(struct gen *g, struct pschool *s)
{
    int d = s->district, u = ur_class(s->ur);
    int k = g->counters[d][s->kind][u]++;
    const char *dn = district_name(g, d);
    const char *town = town_of(g, d, k);
    char ord[24], ord_town[24];
    ordinal(k + 1, ord);
    ordinal(k / 6 + 1, ord_town);
    const char *village = village_of(d, k);
    int first_in_town = k / 6 == 0;
    const char *motto = eb__demo_motto_names[(size_t)(d * 3 + k) % eb__demo_n_motto_names];
    char *n = s->name;
    size_t cap = sizeof(s->name);
    switch (s->kind) {
    case K_KG:
        if (u == 0)
            snprintf(n, cap, "%s%s幼儿园", dn, k == 0 ? "实验" : ord);
        else if (u == 1)
            snprintf(n, cap, "%s镇%s幼儿园", town, first_in_town ? "中心" : ord_town);
        else
            snprintf(n, cap, "%s镇%s%s幼儿园", town, village, k < 72 ? "" : ord);
        break;
    case K_PRI:
        if (u == 0 && d == 0 && k == 0)
            snprintf(n, cap, CITY_NAME "实验小学");
        else if (u == 0 && k < (int)eb__demo_n_roads)
            snprintf(n, cap, "%s%s小学", dn,
                     eb__demo_roads[(size_t)(k + d * 7) % eb__demo_n_roads]);
        else if (u == 0)
            snprintf(n, cap, "%s%s小学", dn, ord);
        else if (u == 1)
            snprintf(n, cap, "%s镇%s小学", town, first_in_town ? "中心" : ord_town);
        else
            snprintf(n, cap, "%s镇%s%s小学", town, village, k < 72 ? "" : ord);
        break;
    case K_TP:
        village = village_of(d, k + 40);
        snprintf(n, cap, "%s镇%s%s教学点", town, village, k < 72 ? "" : ord);
        break;
    case K_JUN:
        if (u == 0)
            snprintf(n, cap, "%s%s初级中学", dn, ord);
        else if (u == 1)
            snprintf(n, cap, "%s镇%s中学", town, first_in_town ? "" : ord_town);
        else
            snprintf(n, cap, "%s镇%s%s中学", town, village, k < 72 ? "" : ord);
        break;
    case K_NINE:
        if (u == 0)
            snprintf(n, cap, "%s%s学校", dn, motto);
        else if (u == 1)
            snprintf(n, cap, "%s镇%s九年一贯制学校", town, first_in_town ? "" : ord_town);
        else
            snprintf(n, cap, "%s镇%s学校", town, village);
        break;
    case K_COMPLETE:
    case K_SENIOR:
        if (eb__demo_districts[g->district_map[d]].urban == 2) {
            ordinal(++g->city_middle_no, ord);
            snprintf(n, cap, CITY_NAME "%s中学", ord);
        } else {
            ordinal(g->counters[d][K_COMPLETE][0] + g->counters[d][K_SENIOR][0] +
                        g->counters[d][K_COMPLETE][1] + g->counters[d][K_SENIOR][1],
                    ord);
            snprintf(n, cap, "%s%s中学", dn, ord);
        }
        break;
    case K_TWELVE:
        if (k == 0 && d < 3)
            snprintf(n, cap, CITY_NAME "外国语学校");
        else
            snprintf(n, cap, "%s%s学校", dn, motto);
        break;
    case K_SPE:
        if (strcmp(s->rt, "511") == 0)
            snprintf(n, cap, CITY_NAME "启明学校");
        else if (strcmp(s->rt, "512") == 0)
            snprintf(n, cap, CITY_NAME "启聪学校");
        else if (strcmp(s->rt, "513") == 0)
            snprintf(n, cap, "%s%s培智学校", dn, k ? ord : "");
        else
            snprintf(n, cap, "%s%s特殊教育学校", dn, k ? ord : "");
        break;
    case K_REF:
        snprintf(n, cap, "%s专门学校", dn);
        break;
    case K_VOC:
        if (strcmp(s->rt, "366") == 0)
            snprintf(n, cap, CITY_NAME "%s技工学校", k ? "高级" : "");
        else if (strcmp(s->rt, "361") == 0)
            snprintf(n, cap, "%s%s职业教育中心", dn, k ? ord : "");
        else
            snprintf(n, cap, "%s%s职业中等专业学校", dn, k ? ord : "");
        break;
    }
    int num = eb__demo_range(&g->r, 1, 399);
    const char *road = eb__demo_roads[eb__demo_below(&g->r, (uint32_t)eb__demo_n_roads)];
    if (u == 0)
        snprintf(s->address, sizeof(s->address), CITY_NAME "%s%s%d号", dn, road, num);
    else if (u == 1)
        snprintf(s->address, sizeof(s->address), CITY_NAME "%s%s镇%s%d号", dn, town, road, num);
    else
        snprintf(s->address, sizeof(s->address), CITY_NAME "%s%s镇%s村", dn, town, village);
}

/* ---- planning ----------------------------------------------------------------------------- */

static const char *running_type(enum kind k, int i)
{
    if (k == K_SPE) /* one school for the blind, one for the deaf, then 培智 and others */
        return i == 0 ? "511" : i == 1 ? "512" : i < 6 ? "513" : "514";
    if (k == K_VOC)
        return i % 5 == 4 ? "366" : i % 2 ? "361" : "365";
    return kinds[k].rt;
}

/* 城乡类型 by the district's kind, calibrated to ≈35 % 城区 / 40 % 镇区 / 25 % 乡村. */
static void pick_urban_rural(struct gen *g, struct pschool *s)
{
    int urban = eb__demo_districts[g->district_map[s->district]].urban;
    static const int city_pm[3][2] = {{150, 780}, {300, 800}, {850, 980}};
    int x = (int)eb__demo_below(&g->r, 1000);
    int u = x < city_pm[urban][0] ? 0 : x < city_pm[urban][1] ? 1 : 2;
    if (s->kind == K_TP)
        u = 2;
    else if (u == 2 && !kinds[s->kind].rural_ok)
        u = 1;
    int y = (int)eb__demo_below(&g->r, 100);
    const char *code = u == 0   ? (y < 80 ? "111" : "112")
                       : u == 1 ? (y < 70   ? "121"
                                   : y < 95 ? "122"
                                            : "123")
                                : (y < 40 ? "210" : "220");
    memcpy(s->ur, code, 4);
}

static int pick_district(struct gen *g, enum kind k)
{
    if (g->n_districts == 2)
        return (int)eb__demo_below(&g->r, 2);
    /* Teaching points stand in the counties; the rest follows population (urban districts a
     * little denser). Weights per mille for the nine districts. */
    static const int w_all[9] = {110, 100, 90, 120, 120, 110, 110, 120, 120};
    static const int w_tp[9] = {0, 0, 0, 170, 170, 160, 170, 160, 170};
    static const int w_city[9] = {250, 200, 150, 70, 70, 60, 60, 70, 70};
    const int *w = k == K_TP                                                        ? w_tp
                   : (k == K_TWELVE || k == K_REF || k == K_SPE || k == K_COMPLETE) ? w_city
                                                                                    : w_all;
    int x = (int)eb__demo_below(&g->r, 1000);
    for (int d = 0; d < 9; d++) {
        x -= w[d];
        if (x < 0)
            return d;
    }
    return 8;
}

static void add_school(struct gen *g, enum kind k, int idx, int district, const char *ur)
{
    g->schools = grow(g->schools, &g->cap_schools, g->n_schools + 1, sizeof(*g->schools));
    struct pschool *s = &g->schools[g->n_schools++];
    memset(s, 0, sizeof(*s));
    s->kind = k;
    s->rt = running_type(k, idx);
    s->district = district;
    if (ur)
        memcpy(s->ur, ur, 4);
    else
        pick_urban_rural(g, s);
}

static double school_weight(struct gen *g, const struct pschool *s)
{
    static const double by_area[3] = {1.6, 1.0, 0.45};
    return by_area[ur_class(s->ur)] * (0.6 + 0.8 * eb__demo_unit(&g->r));
}

/* Streams (classes per grade) for every school part, proportional to the school's weight so
 * that each part's total lands near its §4.6 target. */
static void allocate_streams(struct gen *g)
{
    double *w = eb_xcalloc((size_t)g->n_schools, sizeof(double));
    for (int i = 0; i < g->n_schools; i++)
        w[i] = school_weight(g, &g->schools[i]);
    for (int p = P_PRE; p <= P_VOC; p++) {
        double total_w = 0;
        for (int i = 0; i < g->n_schools; i++) {
            const struct kind_desc *kd = &kinds[g->schools[i].kind];
            for (int j = 0; j < kd->n_parts; j++)
                if (kd->parts[j] == (enum part)p)
                    total_w += w[i];
        }
        double streams =
            city_targets[p].students / (city_targets[p].class_size * part_n_grades((enum part)p));
        for (int i = 0; i < g->n_schools; i++) {
            const struct kind_desc *kd = &kinds[g->schools[i].kind];
            for (int j = 0; j < kd->n_parts; j++) {
                if (kd->parts[j] != (enum part)p)
                    continue;
                int n = (int)lround(streams * w[i] / total_w);
                if (n < 1)
                    n = 1;
                if (n > city_targets[p].max_streams)
                    n = city_targets[p].max_streams;
                g->schools[i].streams[j] = n;
            }
        }
    }
    for (int i = 0; i < g->n_schools; i++) {
        struct pschool *s = &g->schools[i];
        if (s->kind == K_SPE)
            s->streams[0] = eb__demo_range(&g->r, 1, 2);
        else if (s->kind == K_REF)
            s->streams[0] = 1;
        else if (s->kind == K_TP)
            s->streams[0] = eb__demo_range(&g->r, 1, 6); /* = number of classes */
    }
    eb_free(w);
}

/* Lists the classes of every school with their sizes, so totals are known before writing. */
static void plan_classes(struct gen *g)
{
    for (int i = 0; i < g->n_schools; i++) {
        struct pschool *s = &g->schools[i];
        const struct kind_desc *kd = &kinds[s->kind];
        s->first_class = g->n_classes;
        if (s->kind == K_TP) {
            /* A teaching point: 20-80 pupils in 1-6 (mixed) classes of the lower grades. */
            int n = s->streams[0], pupils = eb__demo_range(&g->r, 20, 80);
            for (int c = 0; c < n; c++) {
                g->classes =
                    grow(g->classes, &g->cap_classes, g->n_classes + 1, sizeof(*g->classes));
                int size = pupils / n + (c < pupils % n ? 1 : 0);
                g->classes[g->n_classes++] = (struct pclass){P_TP, (uint8_t)c, 1, (uint8_t)size};
                g->planned_students += size;
            }
            s->n_classes = n;
            continue;
        }
        for (int j = 0; j < kd->n_parts; j++) {
            enum part p = kd->parts[j];
            int ng = part_n_grades(p);
            for (int gr = 0; gr < ng; gr++)
                for (int c = 0; c < s->streams[j]; c++) {
                    g->classes =
                        grow(g->classes, &g->cap_classes, g->n_classes + 1, sizeof(*g->classes));
                    int size = class_size(&g->r, p);
                    g->classes[g->n_classes++] =
                        (struct pclass){(uint8_t)p, (uint8_t)gr, (uint8_t)(c + 1), (uint8_t)size};
                    g->planned_students += size;
                }
        }
        s->n_classes = g->n_classes - s->first_class;
    }
}

/*
 * Whether (lat, lon) lies clearly nearer the centre of district d than any other's, as the map's
 * generated partition measures it (src/brain/geo.c: degrees of longitude shortened by the cosine
 * of the city's middle latitude). "Clearly": 5 % closer in the squared distance, so that the
 * partition's own choice of that latitude does not move a school across a border.
 */
static int near_own_district(const struct gen *g, int d, double lat, double lon)
{
    double lat_mid = 0;
    for (int i = 0; i < g->n_districts; i++)
        lat_mid += eb__demo_districts[g->district_map[i]].lat / g->n_districts;
    double k = cos(lat_mid * M_PI / 180);
    double own = 0, other = INFINITY;
    for (int i = 0; i < g->n_districts; i++) {
        const struct eb__demo_district *dd = &eb__demo_districts[g->district_map[i]];
        double e = (dd->lat - lat) * (dd->lat - lat) + k * k * (dd->lon - lon) * (dd->lon - lon);
        if (i == d)
            own = e;
        else if (e < other)
            other = e;
    }
    return own < 0.95 * other;
}

static void plan_places(struct gen *g)
{
    int seq = 100001;
    for (int i = 0; i < g->n_schools; i++) {
        struct pschool *s = &g->schools[i];
        const struct eb__demo_district *dd = &eb__demo_districts[g->district_map[s->district]];
        static const double spread[3] = {0.02, 0.08, 0.14};
        double sd = spread[ur_class(s->ur)];
        /* A sum of three uniforms is close enough to a normal spread around the centre. A school
         * stays nearer its own district's centre than any other's: the map's generated
         * boundaries (src/brain/geo.c, Voronoi cells of the centres) then hold every school in
         * its own district, as real ones do. */
        for (int tries = 0;; tries++) {
            double dx = (eb__demo_unit(&g->r) + eb__demo_unit(&g->r) + eb__demo_unit(&g->r) - 1.5);
            double dy = (eb__demo_unit(&g->r) + eb__demo_unit(&g->r) + eb__demo_unit(&g->r) - 1.5);
            s->lat = dd->lat + dy * sd * 2;
            s->lon = dd->lon + dx * sd * 2;
            if (tries == 64 || near_own_district(g, s->district, s->lat, s->lon)) {
                if (tries == 64) {
                    s->lat = dd->lat;
                    s->lon = dd->lon;
                }
                break;
            }
        }
        /* 学校标识码: category from the running type, the province, a unique sequence. */
        const char *aa = "21";
        switch (s->kind) {
        case K_KG:
            aa = "11";
            break;
        case K_JUN:
        case K_NINE:
        case K_REF:
            aa = s->kind == K_REF ? "37" : "31";
            break;
        case K_COMPLETE:
        case K_SENIOR:
        case K_TWELVE:
            aa = "34";
            break;
        case K_VOC:
            aa = "36";
            break;
        case K_SPE:
            aa = "51";
            break;
        default:
            break;
        }
        snprintf(s->code, sizeof(s->code), "%.2s" PROVINCE "%06u", aa, (unsigned)seq++ % 1000000u);
        name_school(g, s);
    }
}

static void plan_city(struct gen *g)
{
    static const int all9[9] = {0, 1, 2, 3, 4, 5, 6, 7, 8};
    g->n_districts = 9;
    g->district_map = all9;
    for (int k = 0; k < N_KINDS; k++) {
        for (int i = 0; i < kinds[k].city_count; i++) {
            int d = pick_district(g, (enum kind)k);
            /* school1 of the demo accounts is the first 初级中学 of the first district. */
            if (k == K_JUN && i == 0)
                d = 0;
            add_school(g, (enum kind)k, i, d, (k == K_JUN && i == 0) ? "111" : NULL);
        }
    }
    allocate_streams(g);
}

/* The CI fixture: two districts, ten schools, the same shapes at a tenth of a county. */
static void plan_small(struct gen *g)
{
    static const int two[2] = {0, 3}; /* 明德区 (市辖区) and 青山县 */
    static const struct {
        enum kind k;
        int d;
        const char *ur;
        int streams[3];
    } small[] = {
        {K_KG, 0, "111", {2}},  {K_KG, 1, "121", {1}},      {K_PRI, 0, "111", {2}},
        {K_PRI, 0, "112", {1}}, {K_PRI, 1, "121", {2}},     {K_TP, 1, "220", {4}},
        {K_JUN, 0, "111", {2}}, {K_NINE, 1, "121", {1, 2}}, {K_COMPLETE, 0, "111", {2, 2}},
        {K_VOC, 1, "121", {2}},
    };
    g->n_districts = 2;
    g->district_map = two;
    for (size_t i = 0; i < sizeof(small) / sizeof(small[0]); i++) {
        add_school(g, small[i].k, 0, small[i].d, small[i].ur);
        memcpy(g->schools[g->n_schools - 1].streams, small[i].streams, sizeof(small[i].streams));
    }
}

/* ---- writing ------------------------------------------------------------------------------ */

static int row(struct gen *g)
{
    if (++g->rows_in_tx < ROWS_PER_TX)
        return 0;
    g->rows_in_tx = 0;
    int rc = eb_db_commit(g->db);
    if (rc == 0)
        rc = eb_db_begin(g->db);
    return rc;
}

static void district_code(const struct gen *g, int d, char out[7])
{
    snprintf(out, 7, "%.4s%s", CITY_CODE, eb__demo_districts[g->district_map[d]].suffix);
}

static int day_index(int y, int m, int d)
{
    /* Days from 1960-01-01 (a civil-from-days count, valid for the Gregorian calendar). */
    y -= m <= 2;
    int era = y / 400, yoe = y - era * 400;
    int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 715815; /* 715815 = days from 0000-03-01 to 1960-01-01 */
}

static void build_dates(struct gen *g)
{
    g->n_days = day_index(2026, 12, 31) + 1;
    g->ymd = eb_xmalloc((size_t)g->n_days * sizeof(*g->ymd));
    int i = 0;
    for (int y = 1960; y <= 2026; y++)
        for (int m = 1; m <= 12; m++) {
            static const int dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
            int nd = dim[m - 1] + (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0));
            for (int d = 1; d <= nd && i < g->n_days; d++)
                snprintf(g->ymd[i++], 9, "%04u%02u%02u", (unsigned)y % 10000u, (unsigned)m % 100u,
                         (unsigned)d % 100u);
        }
    g->seq = eb_xcalloc((size_t)g->n_districts * (size_t)g->n_days * 2, sizeof(uint16_t));
}

/*
 * Builds the 17 leading digits of a citizen ID (or J number) for a person born on day in
 * district d, unique per district and day: odd sequence numbers for men, even for women.
 * *dayp moves on to the next day in the rare case that a day is full.
 */
static void id_base(struct gen *g, int d, int *dayp, enum eb_sex sex, char out[18])
{
    int day = *dayp;
    for (;;) {
        uint16_t *c =
            &g->seq[((size_t)d * (size_t)g->n_days + (size_t)day) * 2 + (sex == EB_SEX_FEMALE)];
        int seq = 2 * (int)*c + (sex == EB_SEX_FEMALE ? 2 : 1);
        if (seq <= 999) {
            (*c)++;
            char div[7];
            district_code(g, d, div);
            snprintf(out, 18, "%s%s%03d", div, g->ymd[day], seq);
            *dayp = day;
            return;
        }
        day = day + 1 < g->n_days ? day + 1 : 0; /* a full day spills to the next one */
    }
}

static void birth_date(const struct gen *g, int day, char out[11])
{
    const char *s = g->ymd[day];
    snprintf(out, 11, "%.4s-%.2s-%.2s", s, s + 4, s + 6);
}

static int year_of(const struct gen *g, int day)
{
    const char *s = g->ymd[day];
    return (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
}

static int random_day(struct gen *g, int from_year, int to_year)
{
    int a = day_index(from_year, 1, 1), b = day_index(to_year, 12, 31);
    return eb__demo_range(&g->r, a, b);
}

static void phone(struct gen *g, char out[12])
{
    static const char second[] = "35789";
    snprintf(out, 12, "1%c%09u", second[eb__demo_below(&g->r, 5)],
             (unsigned)eb__demo_below(&g->r, 1000000000u));
}

static int create_org(struct gen *g, struct eb_org *o, int64_t *id)
{
    int rc = eb_store_org_create(g->db, &g->c, o, id);
    if (rc != 0)
        eb_error("demo: creating org %s failed: %s", o->name, eb_strerror(rc));
    return rc ? rc : row(g);
}

static int create_person(struct gen *g, struct eb_person *p, int64_t *id)
{
    int rc = eb_store_person_create(g->db, &g->c, p, id);
    if (rc != 0)
        eb_error("demo: creating a person failed: %s", eb_strerror(rc));
    return rc ? rc : row(g);
}

static int write_teachers(struct gen *g, const struct pschool *s, int64_t school_id,
                          const int *students_per_part, const int *classes_per_part, int *n_out)
{
    const struct kind_desc *kd = &kinds[s->kind];
    int n = 0, rc = 0;
    int n_leaders = s->n_classes < 12 ? 1 : 2;
    for (int j = -1; j < kd->n_parts; j++) {
        enum part p = kd->parts[j < 0 ? 0 : j];
        int count = n_leaders;
        if (j >= 0) {
            /* The leaders count as full-time teachers of the first part. */
            count = (int)lround(students_per_part[p] / parts[p].ratio) - (j == 0 ? n_leaders : 0);
            if (count < classes_per_part[p])
                count = classes_per_part[p];
        }
        for (int t = 0; t < count; t++) {
            g->teachers = grow(g->teachers, &g->cap_teachers, n + 1, sizeof(*g->teachers));
            struct teacher *te = &g->teachers[n];
            char name[32], bd[11], idb[18], cid[19], staff[24], tel[12], start[11];
            enum eb_sex sex =
                (int)eb__demo_below(&g->r, 1000) < parts[p].female_pm ? EB_SEX_FEMALE : EB_SEX_MALE;
            int day = j < 0 ? random_day(g, 1970, 1984) : random_day(g, 1968, 2003);
            eb__demo_person_name(&g->names, &g->r, sex, name, sizeof(name));
            id_base(g, s->district, &day, sex, idb);
            birth_date(g, day, bd);
            memcpy(cid, idb, 17);
            cid[17] = eb_citizen_id_check_char(idb);
            cid[18] = 0;
            snprintf(staff, sizeof(staff), "%s%04u", s->code, (unsigned)(n + 1) % 10000u);
            phone(g, tel);
            te->part = (uint8_t)p;
            /* The first teachers of a part teach the subjects every class has (and become its
             * head teachers, as 班主任 mostly teach 语文 or 数学); the rest follow the mix. */
            int n_core = 0;
            while (n_core < 3 && parts[p].class_subjects[n_core])
                n_core++;
            int sub = -1;
            if (j >= 0 && t < 2 * n_core)
                sub = subject_index(parts[p].subjects, parts[p].class_subjects[t % n_core]);
            te->subject = (uint8_t)(sub >= 0 ? sub : pick_weighted(&g->r, parts[p].subjects));
            struct eb_person in = {.name = name,
                                   .sex = sex,
                                   .birth_date = bd,
                                   .citizen_id = cid,
                                   .staff_no = staff,
                                   .phone = tel,
                                   .org_id = school_id};
            rc = create_person(g, &in, &te->person_id);
            if (rc != 0)
                goto done;
            /* Hired at 22 at the earliest, and not before the records begin (1990). */
            int first_year = year_of(g, day) + 22;
            if (first_year < 1990)
                first_year = 1990;
            if (first_year > SCHOOL_YEAR)
                first_year = SCHOOL_YEAR;
            snprintf(start, sizeof(start), "%04d-09-01",
                     eb__demo_range(&g->r, first_year, SCHOOL_YEAR));
            char subjects[32];
            snprintf(subjects, sizeof(subjects), "%s", parts[p].subjects[te->subject].name);
            char title[16];
            snprintf(title, sizeof(title), "%s", j >= 0 ? "专任教师" : t == 0 ? "校长" : "副校长");
            struct eb_post post = {.person_id = te->person_id,
                                   .school_id = school_id,
                                   .title = title,
                                   .subjects = subjects,
                                   .start_date = start};
            rc = eb_store_post_create(g->db, &g->c, &post, &te->post_id);
            if (rc == 0)
                rc = row(g);
            if (rc != 0) {
                eb_error("demo: creating a post failed: %s", eb_strerror(rc));
                goto done;
            }
            /* Leaders do not head classes; mark them with a part no class has. */
            if (j < 0)
                te->part = N_PARTS;
            n++;
            g->stats->teachers++;
        }
    }
done:
    *n_out = n;
    return rc;
}

static int teaching_row(struct gen *g, const struct teacher *te, int64_t class_id,
                        const char *subject, int head)
{
    char subj[32];
    char start[] = TERM_START;
    snprintf(subj, sizeof(subj), "%s", subject);
    struct eb_teaching in = {.post_id = te->post_id,
                             .class_id = class_id,
                             .subject = subj,
                             .is_head_teacher = head,
                             .start_date = start};
    int64_t id;
    int rc = eb_store_teaching_create(g->db, &g->c, &in, &id);
    if (rc != 0) {
        eb_error("demo: creating a teaching row failed: %s", eb_strerror(rc));
        return rc;
    }
    return row(g);
}

/* Head teachers: the k-th class of a part gets the part's k-th teacher (there are at least as
 * many teachers as classes). Subject rows go round-robin over the part's teachers of that
 * subject, skipping the head teacher. */
static int write_teaching(struct gen *g, const struct pschool *s, int n_teachers,
                          int64_t *head_person_of_first_class)
{
    int next_head[N_PARTS + 1] = {0};
    int first_of_part[N_PARTS + 1];
    int rr[N_PARTS][3] = {{0}};
    for (int p = 0; p <= N_PARTS; p++)
        first_of_part[p] = -1;
    for (int t = n_teachers - 1; t >= 0; t--)
        first_of_part[g->teachers[t].part] = t;
    for (int c = 0; c < s->n_classes; c++) {
        const struct pclass *pc = &g->classes[s->first_class + c];
        enum part p = pc->part;
        int64_t class_id = g->class_ids[c];
        if (first_of_part[p] < 0)
            continue;
        int h = first_of_part[p] + next_head[p]++;
        if (h >= n_teachers || g->teachers[h].part != p)
            h = first_of_part[p];
        const struct teacher *head = &g->teachers[h];
        if (c == 0 && head_person_of_first_class)
            *head_person_of_first_class = head->person_id;
        int rc = teaching_row(g, head, class_id, parts[p].subjects[head->subject].name, 1);
        if (rc != 0)
            return rc;
        const struct grade_info *gi = grade_info(parts[p].grades[pc->grade]);
        for (int k = 0; k < 3 && parts[p].class_subjects[k]; k++) {
            const char *subj = parts[p].class_subjects[k];
            int si = subject_index(parts[p].subjects, subj);
            if (si < 0 || (p != P_PRE && si == head->subject))
                continue;
            if (p == P_PRI && strcmp(subj, "外语") == 0 && strcmp(gi->code, "13") < 0)
                continue; /* English starts in grade 3 */
            /* Round-robin over the part's teachers of this subject, never the head. */
            int found = -1;
            for (int tries = 0; tries < n_teachers; tries++) {
                int t = (rr[p][k]++) % n_teachers;
                if (g->teachers[t].part == p && g->teachers[t].subject == si && t != h) {
                    found = t;
                    break;
                }
            }
            if (found < 0)
                continue;
            rc = teaching_row(g, &g->teachers[found], class_id, subj, 0);
            if (rc != 0)
                return rc;
        }
    }
    return 0;
}

static int write_students(struct gen *g, const struct pschool *s, int64_t school_id)
{
    char start[] = TERM_START;
    for (int c = 0; c < s->n_classes; c++) {
        const struct pclass *pc = &g->classes[s->first_class + c];
        const struct grade_info *gi = grade_info(parts[pc->part].grades[pc->grade]);
        for (int k = 0; k < pc->size; k++) {
            char name[32], bd[11], idb[18], cid[19], sno[24];
            enum eb_sex sex = eb__demo_below(&g->r, 100) < 52 ? EB_SEX_MALE : EB_SEX_FEMALE;
            /* Full years on 1 September: born from 1 Sep (Y-age-1) to 31 Aug (Y-age); a few
             * started late or repeated a year, and special schools take a wider age range. */
            int age = gi->age;
            if (eb__demo_below(&g->r, 100) < 3)
                age++;
            if (pc->part == P_SPE)
                age += eb__demo_range(&g->r, 0, 2);
            int from = day_index(SCHOOL_YEAR - age - 1, 9, 1);
            int day = from + eb__demo_range(&g->r, 0, day_index(SCHOOL_YEAR - age, 8, 31) - from);
            eb__demo_person_name(&g->names, &g->r, sex, name, sizeof(name));
            id_base(g, s->district, &day, sex, idb);
            birth_date(g, day, bd);
            struct eb_person in = {
                .name = name, .sex = sex, .birth_date = bd, .student_no = sno, .org_id = school_id};
            int kind = (int)eb__demo_below(&g->r, 1000);
            if (kind < 980) {
                memcpy(cid, idb, 17);
                cid[17] = eb_citizen_id_check_char(idb);
                cid[18] = 0;
                /* A seeded few carry a wrong check digit for the data-quality checks. */
                if (eb__demo_below(&g->r, 2000) == 0) {
                    const char *alt = "10X98765432";
                    const char *pos = strchr(alt, cid[17]);
                    cid[17] = alt[((pos ? pos - alt : 0) + 1 + eb__demo_below(&g->r, 10)) % 11];
                    g->stats->invalid_ids++;
                }
                in.citizen_id = cid;
                snprintf(sno, sizeof(sno), "G%s", cid);
            } else if (kind < 992) {
                /* J: no ID number; built like one from the school's region code. */
                snprintf(sno, sizeof(sno), "J%.17s%c", idb, eb_citizen_id_check_char(idb));
            } else {
                /* L: temporary; region + birth date + 4 digits (unique: the ID sequence). */
                snprintf(sno, sizeof(sno), "L%.14s0%.3s", idb, idb + 14);
            }
            int64_t pid, eid;
            int rc = create_person(g, &in, &pid);
            if (rc != 0)
                return rc;
            struct eb_enrolment en = {
                .person_id = pid, .class_id = g->class_ids[c], .start_date = start};
            rc = eb_store_enrolment_create(g->db, &g->c, &en, &eid);
            if (rc == 0)
                rc = row(g);
            if (rc != 0) {
                eb_error("demo: creating an enrolment failed: %s", eb_strerror(rc));
                return rc;
            }
            if (g->demo_student_person == 0 && school_id == g->demo_school_id && c == 0) {
                g->demo_student_person = pid;
                g->demo_student_district = s->district;
            }
            g->stats->students++;
        }
    }
    return 0;
}

static void class_name(const struct gen *g, const struct pschool *s, const struct pclass *pc,
                       const struct grade_info *gi, char *out, size_t cap)
{
    if (pc->part == P_VOC) {
        int entry = SCHOOL_YEAR - (gi->code[1] - '1');
        const char *major =
            eb__demo_majors[(size_t)(pc->number - 1 + (s - g->schools)) % eb__demo_n_majors];
        snprintf(out, cap, "%d级%s(%d)班", entry, major, pc->number);
    } else {
        snprintf(out, cap, "%s(%d)班", gi->class_prefix, pc->number);
    }
}

static int write_school(struct gen *g, int si)
{
    struct pschool *s = &g->schools[si];
    char div[7], grade_code[3] = "", name[96], rt[4];
    int64_t school_id = 0, grade_id = 0;
    unsigned stages = 0;
    eb_running_type_check(s->rt, &stages, NULL);
    district_code(g, s->district, div);
    snprintf(rt, sizeof(rt), "%s", s->rt);
    struct eb_org o = {.parent_id = g->district_ids[s->district],
                       .kind = EB_ORG_SCHOOL,
                       .name = s->name,
                       .division_code = div,
                       .school_code = s->code,
                       .running_type = rt,
                       .stages = stages,
                       .urban_rural = s->ur,
                       .address = s->address,
                       .lat = s->lat,
                       .lon = s->lon,
                       .has_coords = 1};
    int rc = create_org(g, &o, &school_id);
    if (rc != 0)
        return rc;
    g->stats->schools++;
    if (si == g->demo_school)
        g->demo_school_id = school_id;
    g->class_ids = grow(g->class_ids, &g->cap_class_ids, s->n_classes, sizeof(*g->class_ids));
    int students_per_part[N_PARTS] = {0}, classes_per_part[N_PARTS] = {0};
    int last_part = -1, last_grade = -1;
    for (int c = 0; c < s->n_classes; c++) {
        const struct pclass *pc = &g->classes[s->first_class + c];
        const struct grade_info *gi = grade_info(parts[pc->part].grades[pc->grade]);
        students_per_part[pc->part] += pc->size;
        classes_per_part[pc->part]++;
        /* A special school repeats grade codes in its two halves; classes come grade by grade,
         * so a new grade node starts whenever the part or grade changes. */
        if (pc->part != last_part || pc->grade != last_grade) {
            memcpy(grade_code, gi->code, 3);
            snprintf(name, sizeof(name), "%s", gi->name);
            struct eb_org go = {.parent_id = school_id,
                                .kind = EB_ORG_GRADE,
                                .name = name,
                                .grade_code = grade_code,
                                .school_year = SCHOOL_YEAR};
            rc = create_org(g, &go, &grade_id);
            if (rc != 0)
                return rc;
            g->stats->grades++;
            last_part = pc->part;
            last_grade = pc->grade;
        }
        class_name(g, s, pc, gi, name, sizeof(name));
        struct eb_org co = {.parent_id = grade_id,
                            .kind = EB_ORG_CLASS,
                            .name = name,
                            .grade_code = grade_code,
                            .school_year = SCHOOL_YEAR};
        rc = create_org(g, &co, &g->class_ids[c]);
        if (rc != 0)
            return rc;
        g->stats->classes++;
    }
    int n_teachers = 0;
    rc = write_teachers(g, s, school_id, students_per_part, classes_per_part, &n_teachers);
    if (rc != 0)
        return rc;
    int64_t head = 0;
    rc = write_teaching(g, s, n_teachers, &head);
    if (rc != 0)
        return rc;
    if (si == g->demo_school) {
        g->demo_class_id = g->class_ids[0];
        g->demo_teacher_person = head;
    }
    return write_students(g, s, school_id);
}

/* ---- accounts ----------------------------------------------------------------------------- */

static int add_account(struct gen *g, const char *login, const char *display, const char *hash,
                       int64_t person_id, enum eb_role role, int64_t org_id, int64_t *id_out)
{
    char l[32], dn[128], h[256];
    snprintf(l, sizeof(l), "%s", login);
    snprintf(dn, sizeof(dn), "%s", display);
    snprintf(h, sizeof(h), "%s", hash);
    struct eb_account a = {
        .login = l, .display_name = dn, .password_hash = h, .person_id = person_id};
    int64_t id = 0, gid;
    int rc = eb_store_account_create(g->db, &g->c, &a, &id);
    if (rc == 0)
        rc = eb_store_grant_add(g->db, &g->c, id, role, org_id, &gid);
    if (rc != 0) {
        eb_error("demo: creating account %s failed: %s", login, eb_strerror(rc));
        return rc;
    }
    g->stats->accounts++;
    if (id_out)
        *id_out = id;
    return 0;
}

/*
 * The school calendar: the current year (the SCHOOL_YEAR of every class written above) and the
 * one before it, so that "as of" questions about last spring have an answer too.
 */
static int write_school_years(struct gen *g)
{
    static const struct eb_school_year years[] = {
        {.name = "2025-2026",
         .start_date = "2025-09-01",
         .end_date = "2026-07-15",
         .n_terms = 2,
         .terms = {{1, "2025-09-01", "2026-01-20"}, {2, "2026-02-20", "2026-07-15"}}},
        {.name = "2026-2027",
         .start_date = TERM_START,
         .end_date = "2027-07-15",
         .n_terms = 2,
         .terms = {{1, TERM_START, "2027-01-20"}, {2, "2027-02-20", "2027-07-15"}}},
    };
    for (size_t i = 0; i < sizeof(years) / sizeof(years[0]); i++) {
        int64_t id;
        int rc = eb_store_year_create(g->db, &g->c, &years[i], &id);
        if (rc != 0)
            return rc;
    }
    return 0;
}

static int write_accounts(struct gen *g)
{
    int rc = 0;
    if (g->opt->admin_password_hash) {
        rc = add_account(g, "admin", CITY_NAME "教育局管理员", g->opt->admin_password_hash, 0,
                         EB_ROLE_CITY_ADMIN, g->city_id, NULL);
        if (rc != 0)
            return rc;
    }
    const char *h = g->opt->demo_password_hash;
    if (!h)
        return 0;
    char name[128];
    int64_t id, gid;
    snprintf(name, sizeof(name), "%s教育局管理员", district_name(g, 0));
    rc = add_account(g, "district1", name, h, 0, EB_ROLE_DISTRICT_ADMIN, g->district_ids[0], NULL);
    if (rc == 0 && g->demo_school_id) {
        snprintf(name, sizeof(name), "%s管理员", g->schools[g->demo_school].name);
        rc = add_account(g, "school1", name, h, 0, EB_ROLE_SCHOOL_ADMIN, g->demo_school_id, NULL);
    }
    if (rc == 0 && g->demo_teacher_person) {
        rc = add_account(g, "teacher1", "示范班主任", h, g->demo_teacher_person, EB_ROLE_TEACHER,
                         g->demo_school_id, &id);
        if (rc == 0)
            rc = eb_store_grant_add(g->db, &g->c, id, EB_ROLE_HEAD_TEACHER, g->demo_class_id, &gid);
    }
    if (rc == 0 && g->demo_student_person) {
        rc = add_account(g, "student1", "示范学生", h, g->demo_student_person, EB_ROLE_STUDENT,
                         g->demo_class_id, NULL);
        /* Two guardians of student1; the mother gets the parent1 account. */
        static const char *const rel[2] = {"母亲", "父亲"};
        for (int i = 0; rc == 0 && i < 2; i++) {
            enum eb_sex sex = i == 0 ? EB_SEX_FEMALE : EB_SEX_MALE;
            int day = random_day(g, 1982, 1992);
            char pname[32], bd[11], idb[18], cid[19], tel[12], r[16], start[] = TERM_START;
            char kind[] = "parent";
            eb__demo_person_name(&g->names, &g->r, sex, pname, sizeof(pname));
            id_base(g, (int)g->demo_student_district, &day, sex, idb);
            birth_date(g, day, bd);
            memcpy(cid, idb, 17);
            cid[17] = eb_citizen_id_check_char(idb);
            cid[18] = 0;
            phone(g, tel);
            snprintf(r, sizeof(r), "%s", rel[i]);
            struct eb_person p = {.name = pname,
                                  .sex = sex,
                                  .birth_date = bd,
                                  .citizen_id = cid,
                                  .phone = tel,
                                  .org_id = g->demo_school_id,
                                  .kind = kind};
            int64_t pid, lid;
            rc = create_person(g, &p, &pid);
            if (rc != 0)
                break;
            struct eb_guardian gu = {.parent_id = pid,
                                     .student_id = g->demo_student_person,
                                     .relation = r,
                                     .start_date = start};
            rc = eb_store_guardian_create(g->db, &g->c, &gu, &lid);
            if (rc != 0) {
                eb_error("demo: creating a guardian failed: %s", eb_strerror(rc));
                break;
            }
            g->stats->parents++;
            if (i == 0)
                rc = add_account(g, "parent1", pname, h, pid, EB_ROLE_PARENT, g->demo_class_id,
                                 NULL);
        }
    }
    if (rc == 0)
        rc = add_account(g, "analyst1", CITY_NAME "数据分析员", h, 0, EB_ROLE_ANALYST, g->city_id,
                         NULL);
    return rc;
}

/* ---- progress and the entry point --------------------------------------------------------- */

static void progress(struct gen *g, int done_schools, int final)
{
    FILE *f = g->opt->progress;
    if (!f)
        return;
    if (g->progress_tty) {
        if (final || done_schools % 5 == 0) {
            fprintf(f, "\r学校 %d/%d 学生 %lld/%lld", done_schools, g->n_schools,
                    (long long)g->stats->students, (long long)g->planned_students);
            if (final)
                fputc('\n', f);
            fflush(f);
        }
        return;
    }
    int decile = g->n_schools ? done_schools * 10 / g->n_schools : 10;
    if (decile > g->progress_decile) {
        g->progress_decile = decile;
        fprintf(f, "学校 %d/%d 学生 %lld/%lld\n", done_schools, g->n_schools,
                (long long)g->stats->students, (long long)g->planned_students);
        fflush(f);
    }
}

static void free_gen(struct gen *g)
{
    eb_free(g->schools);
    eb_free(g->classes);
    eb_free(g->ymd);
    eb_free(g->seq);
    eb_free(g->class_ids);
    eb_free(g->teachers);
}

int eb_demo_generate(struct eb_store *st, const struct eb_demo_options *opt,
                     struct eb_demo_stats *stats)
{
    struct gen g;
    memset(&g, 0, sizeof(g));
    memset(stats, 0, sizeof(*stats));
    if (!st || !opt)
        return EB_EINVAL;
    g.opt = opt;
    g.stats = stats;
    g.c.system = 1;
    g.c.no_audit = 1;
    g.demo_school = -1;
    g.progress_tty = opt->progress && isatty(fileno(opt->progress));
    g.db = eb_store_acquire(st);
    int rc = 0, in_tx = 0;
    int64_t n_cities = 0;
    rc = eb_store_org_count(g.db, EB_ORG_CITY, &n_cities);
    if (rc == 0 && n_cities > 0)
        rc = EB_EEXIST;
    if (rc != 0)
        goto done;

    eb__demo_rng_seed(&g.r, opt->seed);
    eb__demo_names_init(&g.names);
    if (opt->scale == EB_DEMO_SMALL)
        plan_small(&g);
    else
        plan_city(&g);
    for (int i = 0; i < g.n_schools; i++)
        if (g.schools[i].kind == K_JUN && g.schools[i].district == 0) {
            g.demo_school = i;
            break;
        }
    plan_classes(&g);
    plan_places(&g);
    build_dates(&g);

    rc = eb_db_begin(g.db);
    if (rc != 0)
        goto done;
    in_tx = 1;
    char city_name[] = CITY_NAME "教育局", city_code[] = CITY_CODE, addr[] = CITY_NAME "人民路1号";
    struct eb_org city = {.kind = EB_ORG_CITY,
                          .name = city_name,
                          .division_code = city_code,
                          .address = addr,
                          .lat = 36.455,
                          .lon = 118.962,
                          .has_coords = 1};
    rc = create_org(&g, &city, &g.city_id);
    if (rc != 0)
        goto done;
    for (int d = 0; d < g.n_districts; d++) {
        const struct eb__demo_district *dd = &eb__demo_districts[g.district_map[d]];
        char name[64], div[7];
        snprintf(name, sizeof(name), "%s教育局", dd->name);
        district_code(&g, d, div);
        struct eb_org o = {.parent_id = g.city_id,
                           .kind = EB_ORG_DISTRICT,
                           .name = name,
                           .division_code = div,
                           .lat = dd->lat,
                           .lon = dd->lon,
                           .has_coords = 1};
        rc = create_org(&g, &o, &g.district_ids[d]);
        if (rc != 0)
            goto done;
        stats->districts++;
    }
    for (int i = 0; i < g.n_schools; i++) {
        rc = write_school(&g, i);
        if (rc != 0)
            goto done;
        progress(&g, i + 1, 0);
    }
    rc = write_school_years(&g);
    if (rc != 0)
        goto done;
    rc = write_accounts(&g);
    if (rc != 0)
        goto done;
    rc = eb_db_commit(g.db);
    in_tx = 0;
    progress(&g, g.n_schools, 1);
done:
    if (in_tx)
        eb_db_rollback(g.db);
    if (rc != 0 && rc != EB_EEXIST)
        memset(stats, 0, sizeof(*stats));
    eb_store_release(st, g.db);
    free_gen(&g);
    return rc;
}
