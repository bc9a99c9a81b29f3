/* Name and place tables of the demo city: surnames by frequency, given-name characters, towns. */
#include "demo/demo_int.h"

#include <string.h>

/* Common surnames with rough weights (hundredths of a percent of the population, after the
 * 2020 census rankings). Only the order of magnitude matters for synthetic rosters. */
static const struct {
    const char *name;
    int weight;
} surnames[] = {
    {"王", 712}, {"李", 719}, {"张", 674}, {"刘", 538}, {"陈", 453}, {"杨", 308}, {"黄", 223},
    {"赵", 229}, {"吴", 205}, {"周", 196}, {"徐", 145}, {"孙", 138}, {"马", 129}, {"朱", 128},
    {"胡", 116}, {"郭", 115}, {"何", 105}, {"高", 100}, {"林", 97},  {"罗", 86},  {"郑", 80},
    {"梁", 79},  {"谢", 76},  {"宋", 71},  {"唐", 70},  {"许", 66},  {"韩", 65},  {"冯", 64},
    {"邓", 63},  {"曹", 62},  {"彭", 58},  {"曾", 55},  {"肖", 54},  {"田", 52},  {"董", 52},
    {"袁", 49},  {"潘", 48},  {"于", 47},  {"蒋", 46},  {"蔡", 45},  {"余", 44},  {"杜", 43},
    {"叶", 42},  {"程", 41},  {"苏", 40},  {"魏", 39},  {"吕", 38},  {"丁", 37},  {"任", 36},
    {"沈", 35},  {"姚", 34},  {"卢", 33},  {"姜", 32},  {"崔", 31},  {"钟", 30},  {"谭", 29},
    {"陆", 28},  {"汪", 27},  {"范", 26},  {"金", 25},  {"石", 24},  {"廖", 23},  {"贾", 22},
    {"夏", 21},  {"韦", 20},  {"付", 19},  {"方", 18},  {"白", 17},  {"邹", 16},  {"孟", 15},
    {"熊", 15},  {"秦", 14},  {"邱", 14},  {"江", 14},  {"尹", 13},  {"薛", 13},  {"闫", 12},
    {"段", 12},  {"雷", 12},  {"侯", 11},  {"龙", 11},  {"史", 11},  {"陶", 10},  {"黎", 10},
    {"贺", 10},  {"顾", 9},   {"毛", 9},   {"郝", 9},   {"龚", 9},   {"邵", 9},   {"万", 8},
    {"钱", 8},   {"严", 8},   {"武", 8},   {"戴", 8},   {"莫", 7},   {"孔", 7},   {"向", 7},
    {"汤", 7},   {"欧阳", 2}, {"司马", 1}, {"诸葛", 1}, {"上官", 1},
};

/* Given-name characters: some lean male, some female, some are used for both. */
static const char *const given_male[] = {
    "伟", "强", "磊", "军", "勇", "杰", "涛", "斌", "超", "明", "刚", "辉", "鹏", "飞", "鑫",
    "波", "宇", "浩", "凯", "健", "俊", "帆", "帅", "旭", "龙", "阳", "博", "轩", "泽", "睿",
    "铭", "皓", "辰", "逸", "航", "昊", "哲", "瑞", "翔", "锐", "嘉", "豪", "宸", "烨", "晟",
    "毅", "峰", "振", "亮", "鸿", "骏", "彬", "晨", "霖", "硕", "恒", "朗", "奕", "尧", "煜",
};
static const char *const given_female[] = {
    "芳", "娜", "敏", "静", "丽", "艳", "娟", "霞", "燕", "玲", "婷", "雪", "琳", "倩", "颖",
    "洁", "佳", "欣", "怡", "梦", "雨", "涵", "萱", "诗", "琪", "瑶", "馨", "彤", "悦", "妍",
    "晴", "蕊", "菲", "璐", "婉", "雅", "紫", "月", "钰", "语", "若", "曦", "可", "茜", "薇",
    "蓉", "莉", "慧", "婧", "岚", "嫣", "琦", "媛", "露", "秀", "丹", "晓", "梓", "依", "沫",
};
static const char *const given_any[] = {
    "子", "一", "文", "思", "安", "宁", "欣", "心", "嘉", "雨", "晨", "泽", "梓", "俊", "佳",
    "华", "春", "秋", "海", "天", "云", "明", "新", "家", "永", "志", "建", "国", "德", "立",
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

void eb__demo_names_init(struct eb__demo_names *n)
{
    int total = 0;
    for (size_t i = 0; i < COUNT(surnames); i++)
        total += surnames[i].weight;
    size_t slot = 0;
    for (size_t i = 0; i < COUNT(surnames) && slot < EB__DEMO_SURNAME_SLOTS; i++) {
        size_t k = (size_t)surnames[i].weight * EB__DEMO_SURNAME_SLOTS / (size_t)total;
        if (k == 0)
            k = 1; /* rare surnames still appear now and then */
        for (size_t j = 0; j < k && slot < EB__DEMO_SURNAME_SLOTS; j++)
            n->surname_slot[slot++] = (uint8_t)i;
    }
    while (slot < EB__DEMO_SURNAME_SLOTS)
        n->surname_slot[slot++] = 0; /* rounding leftovers go to the commonest surname */
}

static size_t put(char *out, size_t len, size_t cap, const char *s)
{
    size_t n = strlen(s);
    if (len + n + 1 > cap)
        return len;
    memcpy(out + len, s, n);
    out[len + n] = 0;
    return len + n;
}

static const char *given_char(struct eb__demo_rng *r, enum eb_sex sex, int allow_any)
{
    uint32_t pick = eb__demo_below(r, allow_any ? 3 : 2);
    if (pick == 2)
        return given_any[eb__demo_below(r, COUNT(given_any))];
    if (sex == EB_SEX_FEMALE)
        return given_female[eb__demo_below(r, COUNT(given_female))];
    return given_male[eb__demo_below(r, COUNT(given_male))];
}

size_t eb__demo_person_name(const struct eb__demo_names *n, struct eb__demo_rng *r, enum eb_sex sex,
                            char *out, size_t cap)
{
    size_t len = 0;
    out[0] = 0;
    len = put(out, len, cap,
              surnames[n->surname_slot[eb__demo_below(r, EB__DEMO_SURNAME_SLOTS)]].name);
    /* About a fifth of names have one given character, the rest two. */
    if (eb__demo_below(r, 5) == 0)
        return put(out, len, cap, given_char(r, sex, 0));
    len = put(out, len, cap, given_char(r, sex, 1));
    return put(out, len, cap, given_char(r, sex, 0));
}

void eb__demo_cn_number(int v, char out[16])
{
    static const char *const digit[] = {"", "一", "二", "三", "四", "五", "六", "七", "八", "九"};
    size_t len = 0;
    out[0] = 0;
    if (v <= 0 || v > 99) {
        put(out, 0, 16, "零");
        return;
    }
    int tens = v / 10, ones = v % 10;
    if (tens > 1)
        len = put(out, len, 16, digit[tens]);
    if (tens > 0)
        len = put(out, len, 16, "十");
    put(out, len, 16, digit[ones]);
}

/* The fictional 示范市 (prefecture code 376000 in province 37; 3760 is not a real prefecture,
 * and 51-70 are valid prefecture-city digits in GB/T 2260). */
const struct eb__demo_district eb__demo_districts[9] = {
    {"01", "明德区", 2, 36.462, 118.931}, {"02", "文华区", 2, 36.431, 118.992},
    {"03", "开元区", 2, 36.503, 119.018}, {"21", "青山县", 0, 36.205, 118.702},
    {"22", "平原县", 0, 36.701, 118.748}, {"23", "临河县", 0, 36.302, 119.301},
    {"24", "云岭县", 0, 36.052, 119.047}, {"81", "安丰市", 1, 36.753, 119.254},
    {"82", "泉溪市", 1, 36.148, 118.403},
};

/* The first town of each district is its seat; county seats are traditionally 城关镇. */
const char *const eb__demo_towns[] = {
    "城关", "东关", "西关", "南关", "北关", "新华", "柳河", "王庄", "李集", "马店", "杨柳", "石桥",
    "白马", "黄河", "青龙", "凤凰", "桃园", "杏林", "梨园", "槐树", "龙泉", "金沙", "银河", "红旗",
    "太平", "永安", "长乐", "福泉", "兴隆", "丰收", "宝山", "清水", "双河", "三里", "五里", "八里",
    "高庄", "陈庄", "刘集", "赵村", "孙庙", "周口", "吴店", "郑家", "韩集", "冯楼", "朱桥", "胡营",
    "林场", "何庄", "罗河", "宋庄", "唐店", "许营", "邓集", "曹庄", "彭楼", "田庄", "董集", "袁庄",
};
const size_t eb__demo_n_towns = COUNT(eb__demo_towns);

const char *const eb__demo_villages[] = {
    "东王", "西李", "前张", "后刘", "大陈", "小杨", "南赵", "北吴", "上周", "下徐", "孙家", "马家",
    "朱家", "胡家", "郭家", "何家", "高家", "林家", "罗家", "郑家", "梁家", "谢家", "宋家", "唐家",
    "许家", "韩家", "冯家", "邓家", "曹家", "彭家", "河口", "沟头", "岭下", "山后", "坡里", "湾里",
    "桥头", "井沿", "庙前", "柳林", "枣园", "杏花", "槐荫", "榆树", "松林", "竹园", "荷花", "莲池",
    "红星", "光明", "胜利", "团结", "前进", "和平", "幸福", "富强", "新庄", "老庄", "大营", "小营",
    "东岭", "西岭", "南坡", "北坡", "中庄", "后营", "前营", "石岗", "土桥", "水磨", "铁炉", "瓦房",
};
const size_t eb__demo_n_villages = COUNT(eb__demo_villages);

const char *const eb__demo_roads[] = {
    "文化路", "建设路", "人民路", "解放路", "胜利路", "和平路", "中山路", "新华路",
    "健康路", "育才路", "学府路", "青年路", "东风路", "光明路", "长安路", "振兴路",
    "幸福路", "民主路", "团结路", "友谊路", "北京路", "南京路", "泰山路", "黄河路",
    "长江路", "滨河路", "花园路", "春晖路", "朝阳路", "红旗路", "工业路", "商业街",
    "府前街", "鼓楼街", "书院街", "体育街", "公园街", "站前街", "迎宾路", "金桥路",
};
const size_t eb__demo_n_roads = COUNT(eb__demo_roads);

const char *const eb__demo_motto_names[] = {
    "育才", "明德", "启智", "博文", "崇文", "致远", "求真", "弘毅", "尚德", "润德",
    "行知", "树人", "立人", "笃行", "知行", "培英", "新元", "东方", "英才", "睿思",
};
const size_t eb__demo_n_motto_names = COUNT(eb__demo_motto_names);

const char *const eb__demo_majors[] = {
    "机电技术应用",   "数控技术应用", "计算机应用", "电子商务",     "会计事务",
    "汽车运用与维修", "幼儿保育",     "护理",       "电子技术应用", "旅游服务与管理",
};
const size_t eb__demo_n_majors = COUNT(eb__demo_majors);
