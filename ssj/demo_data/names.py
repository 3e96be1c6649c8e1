"""Invented people's names and enterprise trade names (字号) for the demo county."""

# The commonest surnames in 河南, most frequent first; weights fall off
# roughly as in the population so that 王/李/张 dominate as they do there.
SURNAMES = (
    "王李张刘陈杨赵黄孙周吴徐朱马胡郭何高林罗郑梁谢宋唐韩冯于董程曹袁邓许"
    "傅沈彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏汪田任姜范方石姚谭邹金郝孔白崔"
    "康毛秦史侯邵孟段雷汤尹常武乔贺申牛岳娄闫聂樊代付焦"
)

# Given-name characters, split so that two-character names sound like names.
GIVEN_FIRST = "建国志海春秋明丽红新玉桂文俊晓子梦雨宏永振德小伟金凤爱淑学秀兰瑞家佳思"
GIVEN_SECOND = "伟芳娜敏静强磊军洋勇艳杰娟涛明超霞平刚燕辉华鹏飞英玲峰林亮红梅丹彬浩宇婷雪琳"
GIVEN_SINGLE = "伟芳娜敏静强磊军洋勇艳杰娟涛明超霞平刚辉华鹏飞英玲峰亮梅丹浩宇婷雪琳斌波健凯"

# Trade names people actually register: auspicious words, local places
# (阳城 is the county's old name, 章华台 a local site, 沙河/汾河 its rivers).
TRADE_NAMES = [
    "鑫源", "宏达", "恒通", "金阳", "华盛", "永兴", "瑞丰", "丰源", "盛世", "天成",
    "兴隆", "广源", "东方", "润泽", "佳美", "康达", "福星", "同心", "中原", "豫商",
    "商周", "章华", "阳城", "汾河", "沙河", "颍川", "鸿运", "金穗", "麦香", "田园",
    "绿源", "惠民", "利民", "宏远", "顺发", "顺达", "金鼎", "聚源", "众诚", "诚信",
    "信达", "博远", "育才", "启航", "新星", "明珠", "万家", "家和", "和顺", "安康",
    "健民", "仁和", "德众", "正阳", "晨光", "曙光", "朝阳", "春晖", "嘉禾", "丰收",
    "益农", "绿野", "金桥", "银河", "泰和", "泰丰", "恒丰", "恒昌", "昌盛", "旺达",
    "兴旺", "隆鑫", "金龙", "华龙", "祥瑞", "吉祥", "如意", "百顺", "千禧", "万通",
    "万兴", "亿达", "美佳", "优品", "红星", "金星", "光明", "创新", "新兴", "天润",
    "天宇", "远航", "通达", "畅通", "路通", "安达", "安泰", "平安", "富民", "富源",
    "金源", "清源", "豫东", "周口", "中州", "华夏", "九州", "龙腾", "凤鸣", "锦绣",
    "宏图", "宏盛", "鼎盛", "鼎新", "三鑫", "双赢", "四季", "五洲", "六合", "七彩",
    "八方", "久久", "百信", "千家", "万福", "金诺", "银丰", "东升", "西城", "南风",
]

# Characters that combine into further plausible trade names when the list
# above runs out (a county with 100,000 employers needs many more).
TRADE_CHARS = "鑫源宏达恒通金阳华盛永兴瑞丰天成隆广润泽佳美康福星中豫商周鸿运穗田绿惠利远顺鼎聚诚信博新明万和安健仁德正晨春嘉益泰昌旺祥吉亿优创锦"
