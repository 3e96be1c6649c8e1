"""Kinds of employer in a county of the 豫东 plain, for the demo target directory
(Art 6: the targets are the employers the matters apply to).

Each kind says how its unified social credit code starts (registration
authority + organisation type, GB 32100-2015), its industry (the sections of
GB/T 4754-2017), how often it occurs, what share of it is small or micro
(Art 7 lets those be drawn at a lower ratio), and how such units are named.

Name forms use {trade} (字号), {word} (line of business), {town} (township),
{surname} and {given} (the owner's names).
"""

ENTERPRISE = "91"  # 工商 + 企业
INDIVIDUAL = "92"  # 工商 + 个体工商户
COOPERATIVE = "93"  # 工商 + 农民专业合作社
SOCIAL_GROUP = "51"  # 民政 + 社会团体
PRIVATE_NONPROFIT = "52"  # 民政 + 民办非企业单位（社会服务机构）

KINDS = [
    # --- companies (91) ---
    {
        "prefix": ENTERPRISE, "industry": "制造业", "weight": 13, "small_percent": 25,
        "words": ["面粉", "粮油", "食品", "面业", "饲料", "肉制品", "豆制品", "调味品", "酒业",
                  "纺织", "服饰", "制衣", "鞋业", "发制品", "皮具", "家具", "木业", "塑业",
                  "包装", "彩印", "纸业", "机械", "农机", "电子", "电器", "新型建材", "水泥制品",
                  "钢构", "生物科技", "药业"],
        "forms": ["商水县{trade}{word}有限公司", "商水县{trade}{word}有限公司", "商水县{trade}{word}有限责任公司",
                  "周口{trade}{word}有限公司", "河南{trade}{word}有限公司"],
    },
    {
        # Sole-proprietor factories (个人独资企业) register as enterprises too.
        "prefix": ENTERPRISE, "industry": "制造业", "weight": 2, "small_percent": 80,
        "words": ["面粉厂", "饲料厂", "食品厂", "服装厂", "家具厂", "砖瓦厂", "水泥预制厂", "纸箱厂",
                  "棉纺厂", "塑料厂", "粮油加工厂", "农副产品加工厂"],
        "forms": ["商水县{trade}{word}", "商水县{town}{trade}{word}"],
    },
    {
        "prefix": ENTERPRISE, "industry": "建筑业", "weight": 7, "small_percent": 30,
        "words": ["建筑工程", "建设工程", "建筑劳务", "建筑安装工程", "装饰工程", "装饰装修工程",
                  "防水工程", "水利工程", "市政工程", "园林绿化工程", "路桥工程", "钢结构工程", "电力工程"],
        "forms": ["商水县{trade}{word}有限公司", "商水县{trade}{word}有限公司", "河南{trade}{word}有限公司",
                  "周口{trade}{word}有限公司"],
    },
    {
        "prefix": ENTERPRISE, "industry": "批发和零售业", "weight": 10, "small_percent": 45,
        "words": ["商贸", "贸易", "商业", "农资", "医药连锁", "百货", "超市", "汽车销售服务",
                  "电动车销售", "农业机械销售", "副食品批发", "建材销售", "石油销售"],
        "forms": ["商水县{trade}{word}有限公司", "商水县{trade}{word}有限公司", "周口{trade}{word}有限公司"],
    },
    {
        "prefix": ENTERPRISE, "industry": "交通运输、仓储和邮政业", "weight": 4, "small_percent": 40,
        "words": ["物流", "运输", "货物运输", "汽车运输", "客运", "快递", "仓储", "冷链物流"],
        "forms": ["商水县{trade}{word}有限公司", "周口{trade}{word}有限公司"],
    },
    {
        "prefix": ENTERPRISE, "industry": "住宿和餐饮业", "weight": 4, "small_percent": 45,
        "words": ["酒店管理", "餐饮管理", "大酒店", "宾馆", "餐饮服务"],
        "forms": ["商水县{trade}{word}有限公司", "商水县{trade}{word}有限公司"],
    },
    {
        "prefix": ENTERPRISE, "industry": "租赁和商务服务业", "weight": 4, "small_percent": 40,
        "words": ["人力资源服务", "劳务服务", "劳务派遣", "保安服务", "广告", "企业管理咨询", "会展服务"],
        "forms": ["商水县{trade}{word}有限公司", "周口{trade}{word}有限公司"],
    },
    {
        "prefix": ENTERPRISE, "industry": "居民服务、修理和其他服务业", "weight": 3, "small_percent": 60,
        "words": ["家政服务", "保洁服务", "汽车维修", "洗涤服务", "婚庆服务"],
        "forms": ["商水县{trade}{word}有限公司"],
    },
    {
        "prefix": ENTERPRISE, "industry": "房地产业", "weight": 2, "small_percent": 15,
        "words": ["置业", "房地产开发", "物业服务", "物业管理"],
        "forms": ["商水县{trade}{word}有限公司", "河南{trade}{word}有限公司"],
    },
    {
        "prefix": ENTERPRISE, "industry": "农、林、牧、渔业", "weight": 3, "small_percent": 50,
        "words": ["农业开发", "农业科技", "牧业", "生态养殖", "种植", "林业", "农牧"],
        "forms": ["商水县{trade}{word}有限公司", "周口{trade}{word}有限公司"],
    },
    {
        "prefix": ENTERPRISE, "industry": "信息传输、软件和信息技术服务业", "weight": 1, "small_percent": 60,
        "words": ["网络科技", "信息技术", "电子商务", "通信工程"],
        "forms": ["商水县{trade}{word}有限公司"],
    },
    {
        "prefix": ENTERPRISE, "industry": "教育", "weight": 1, "small_percent": 60,
        "words": ["教育咨询", "教育科技", "文化传播"],
        "forms": ["商水县{trade}{word}有限公司"],
    },
    {
        "prefix": ENTERPRISE, "industry": "卫生和社会工作", "weight": 1, "small_percent": 30,
        "words": ["医院", "养老服务", "康复医疗", "健康管理"],
        "forms": ["商水{trade}{word}有限公司", "商水县{trade}{word}有限公司"],
    },
    {
        "prefix": ENTERPRISE, "industry": "文化、体育和娱乐业", "weight": 1, "small_percent": 60,
        "words": ["文化传媒", "影视传媒", "体育文化", "健身服务"],
        "forms": ["商水县{trade}{word}有限公司"],
    },
    # --- individual businesses (92): the bulk of a county's small employers ---
    {
        "prefix": INDIVIDUAL, "industry": "批发和零售业", "weight": 12, "small_percent": 95,
        "words": ["超市", "便利店", "百货商店", "五金店", "建材门市部", "农资门市部", "化肥门市部",
                  "家电商行", "手机店", "服装店", "母婴店", "烟酒店", "副食批发部", "粮油店",
                  "水果店", "电动车商行", "大药房", "眼镜店", "鞋店", "布艺店"],
        "forms": ["商水县{town}{trade}{word}", "商水县{town}{trade}{word}", "商水县{trade}{word}",
                  "商水县{town}{given}{word}"],
    },
    {
        "prefix": INDIVIDUAL, "industry": "住宿和餐饮业", "weight": 8, "small_percent": 95,
        "words": ["饭店", "烩面馆", "羊肉汤馆", "胡辣汤店", "快餐店", "面馆", "宾馆", "旅社",
                  "酒楼", "火锅店", "烧烤店", "蛋糕店", "牛肉汤馆", "水饺馆"],
        "forms": ["商水县{town}{trade}{word}", "商水县{trade}{word}", "商水县{town}{surname}记{word}",
                  "商水县{town}老{surname}家{word}"],
    },
    {
        "prefix": INDIVIDUAL, "industry": "居民服务、修理和其他服务业", "weight": 6, "small_percent": 95,
        "words": ["理发店", "美发店", "美容店", "洗车行", "汽车修理部", "摩托车修理部", "家电维修部",
                  "干洗店", "照相馆", "婚庆服务部", "浴池"],
        "forms": ["商水县{town}{trade}{word}", "商水县{town}{given}{word}", "商水县{trade}{word}"],
    },
    {
        "prefix": INDIVIDUAL, "industry": "制造业", "weight": 4, "small_percent": 95,
        "words": ["面粉加工厂", "馒头坊", "豆腐坊", "小磨油坊", "木器加工厂", "门窗加工部",
                  "彩钢加工部", "服装加工厂", "石材加工厂", "砖厂"],
        "forms": ["商水县{town}{trade}{word}", "商水县{town}{given}{word}"],
    },
    {
        "prefix": INDIVIDUAL, "industry": "交通运输、仓储和邮政业", "weight": 1, "small_percent": 95,
        "words": ["货运部", "运输部", "快递服务站"],
        "forms": ["商水县{town}{trade}{word}"],
    },
    {
        "prefix": INDIVIDUAL, "industry": "农、林、牧、渔业", "weight": 2, "small_percent": 95,
        "words": ["家庭农场", "养殖场", "种植园"],
        "forms": ["商水县{town}{surname}{given}{word}", "商水县{town}{trade}{word}"],
    },
    # --- farmers' cooperatives (93) ---
    {
        "prefix": COOPERATIVE, "industry": "农、林、牧、渔业", "weight": 3, "small_percent": 90,
        "words": ["种植", "养殖", "农机", "果蔬", "食用菌", "蔬菜", "小麦种植", "花生种植",
                  "中药材种植", "生猪养殖", "肉牛养殖", "水产养殖", "土地股份"],
        "forms": ["商水县{trade}{word}专业合作社", "商水县{town}{trade}{word}专业合作社"],
    },
    # --- private non-profit units (52) and associations (51) under 民政 ---
    {
        "prefix": PRIVATE_NONPROFIT, "industry": "教育", "weight": 3, "small_percent": 70,
        "words": ["职业技能培训学校", "幼儿园", "艺术培训学校", "职业培训学校", "托育中心"],
        "forms": ["商水县{trade}{word}", "商水县{town}{trade}{word}"],
    },
    {
        "prefix": PRIVATE_NONPROFIT, "industry": "卫生和社会工作", "weight": 1, "small_percent": 50,
        "words": ["医院", "中医院", "养老院", "康复中心", "敬老院"],
        "forms": ["商水{trade}{word}", "商水县{town}{trade}{word}"],
    },
    {
        "prefix": SOCIAL_GROUP, "industry": "公共管理、社会保障和社会组织", "weight": 0.3, "small_percent": 100,
        "words": ["餐饮行业协会", "建筑业协会", "物流协会", "个体劳动者协会", "家政服务业协会",
                  "养殖业协会", "书法家协会", "摄影家协会", "电子商务协会", "农民工服务协会",
                  "美容美发协会", "保安协会", "民办教育协会", "老年人体育协会", "青年企业家商会",
                  "浙江商会", "福建商会", "温州商会", "服装鞋帽商会", "汽车行业协会"],
        "forms": ["商水县{word}"],
    },
]
