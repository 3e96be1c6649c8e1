"""Townships, roads and villages of 商水县, so that the demo's target directory
covers the whole administrative area as Art 19 requires.

Township codes follow the 9-digit form of the statistical division codes
(county 411623 + 001-099 for 街道, 100-199 for 镇, 200-299 for 乡).
"""

COUNTY = "商水县"
CITY = "周口市"
PROVINCE = "河南省"
REGION_CODE = "411623"

# (code, name, weight): the weight is roughly how many employers sit there;
# the three urban 街道 hold most of them, as in any county seat.
TOWNSHIPS = [
    ("411623001", "新城街道", 9),
    ("411623002", "老城街道", 7),
    ("411623003", "东城街道", 8),
    ("411623100", "黄寨镇", 3),
    ("411623101", "练集镇", 3),
    ("411623102", "魏集镇", 2),
    ("411623103", "固墙镇", 2),
    ("411623104", "白寺镇", 2),
    ("411623105", "巴村镇", 2),
    ("411623106", "谭庄镇", 3),
    ("411623107", "邓城镇", 2),
    ("411623108", "胡吉镇", 2),
    ("411623200", "城关乡", 3),
    ("411623201", "平店乡", 1),
    ("411623202", "袁老乡", 1),
    ("411623203", "化河乡", 1),
    ("411623204", "姚集乡", 1),
    ("411623205", "舒庄乡", 1),
    ("411623206", "大武乡", 1),
    ("411623207", "张明乡", 1),
    ("411623208", "郝岗乡", 1),
    ("411623209", "张庄乡", 1),
    ("411623210", "汤庄乡", 1),
]

# Streets of the county seat (the three 街道 and 城关乡).
TOWN_SEAT_ROADS = [
    "阳城大道", "章华大道", "人民路", "建设路", "新华路", "文化路", "富民路", "健康路",
    "交通路", "迎宾大道", "工业大道", "商周路", "周商路", "东大街", "西大街", "南大街",
    "北大街", "沙河路", "汾河路", "育才路", "政通路", "行政路", "长安路", "光明路",
]

# Main streets of a township seat.
TOWNSHIP_ROADS = [
    "中心街", "人民路", "建设路", "商贸街", "文化路", "府前路", "新华街", "健康路",
    "农贸街", "南街", "北街", "东街", "西街", "幸福路", "团结路",
]

# Village names on the 豫东 plain are mostly a surname and a settlement word.
VILLAGE_SUFFIXES = ["庄", "楼", "营", "寨", "集", "湾", "屯", "口", "桥", "店", "岗", "洼", "园", "台"]
VILLAGE_SURNAMES = "王李张刘陈杨赵黄孙周吴徐朱马胡郭何高林罗郑梁谢宋唐韩冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱汤尹黎易常武乔贺赖龚文"
