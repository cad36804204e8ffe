"""Writes hybridmem/data/demo.json: the hand-written demo memory set with labelled queries
(package data, so that ``hybridmem demo`` works from an installed wheel).

The memories, preferences and queries below were written for hybridmem (no third-party data).
Run ``python data/make_demo.py`` after editing; the JSON is what the demo and tests read.
Query kinds: ``demo`` (shown by ``hybridmem demo``), ``paraphrase``, ``keyword``,
``conversation`` (the answer lives in the caller's current conversation), ``recency`` (an older
memory says the opposite; the newer one is relevant), ``chinese``, ``preference``.
"""

from __future__ import annotations

import json
from pathlib import Path

DAY = 86_400_000
T0 = 1_735_689_600_000  # 2025-01-01T00:00:00Z
NOW = T0 + 330 * DAY  # late November 2025

memories: list[dict] = []
preferences: list[dict] = []
queries: list[dict] = []


def mem(mid, user, key, value, *, day, conv, tags=(), mtype="LongTermMemory", conf=0.95):
    memories.append(
        {
            "id": mid,
            "user_id": user,
            "conversation_id": conv,
            "memory_key": key,
            "memory_value": value,
            "memory_type": mtype,
            "tags": list(tags),
            "confidence": conf,
            "status": "activated",
            "create_time": T0 + day * DAY,
            "update_time": T0 + day * DAY,
        }
    )


def pref(pid, user, text, reasoning, *, day, conv, ptype="explicit_preference"):
    preferences.append(
        {
            "id": pid,
            "user_id": user,
            "conversation_id": conv,
            "preference_type": ptype,
            "preference": text,
            "reasoning": reasoning,
            "create_time": T0 + day * DAY,
            "update_time": T0 + day * DAY,
            "status": "activated",
        }
    )


def ask(qid, user, text, relevant, *, kind, conv=None, prefs=()):
    q = {"id": qid, "user_id": user, "query": text, "now": NOW, "relevant": list(relevant)}
    if conv:
        q["conversation_id"] = conv
    if prefs:
        q["relevant_preferences"] = list(prefs)
    q["kind"] = kind
    queries.append(q)


# --- memos_user_123: the seed's traveller -----------------------------------------------------
U = "memos_user_123"
mem("t01", U, "Travel history", "The user visited Beijing in spring 2023 and saw the Forbidden City.",
    day=10, conv="0301", tags=["travel", "city"])
mem("t02", U, "Travel history", "The user spent a week in Shanghai for a conference in 2024.",
    day=40, conv="0412", tags=["travel", "city"])
mem("t03", U, "Travel history", "The user went to Chengdu last summer and ate hot pot every day.",
    day=70, conv="0520", tags=["travel", "city", "food"])
mem("t04", U, "Travel history", "The user has been to Xi'an and walked on the ancient city wall.",
    day=95, conv="0618", tags=["travel", "city"])
mem("t05", U, "Hotel history", "The user stayed at a Hilton hotel during the Shanghai trip.",
    day=41, conv="0412", tags=["hotel"])
mem("t06", U, "Hotel history", "In Chengdu the user stayed at a 7 Days Inn near Chunxi Road.",
    day=71, conv="0520", tags=["hotel"])
mem("t07", U, "Hotel history", "The user booked an Atour hotel in Xi'an and liked its library.",
    day=96, conv="0618", tags=["hotel"])
mem("t08", U, "Hotel history", "The user has a Marriott Bonvoy membership from business trips.",
    day=120, conv="0715", tags=["hotel", "membership"])
mem("t09", U, "Basic info", "The user works as a product manager at an e-commerce company in Hangzhou.",
    day=5, conv="0301", tags=["work"], mtype="UserMemory")
mem("t10", U, "Family", "The user travels with a five-year-old daughter who loves aquariums.",
    day=150, conv="0801", tags=["family"], mtype="UserMemory")
mem("t11", U, "Health", "The user is allergic to shellfish and avoids seafood restaurants.",
    day=151, conv="0801", tags=["health", "food"], mtype="UserMemory")
mem("t12", U, "Holiday plan", "For the National Day holiday the user has seven days off, Oct 1 to Oct 7.",
    day=260, conv="0928", tags=["holiday", "plan"], mtype="WorkingMemory")
mem("t13", U, "Budget", "The user's budget for the holiday trip is about 8000 yuan in total.",
    day=260, conv="0928", tags=["budget", "plan"], mtype="WorkingMemory")
mem("t14", U, "Transport", "The user gets motion sick on long bus rides.",
    day=180, conv="0820", tags=["health", "transport"])
mem("t15", U, "Hobby", "The user photographs old architecture and carries a film camera.",
    day=30, conv="0405", tags=["hobby"])
mem("t16", U, "Work", "The user's team ships a big promotion campaign every November.",
    day=200, conv="0901", tags=["work"])
mem("t17", U, "Car", "The user drives a white Tesla Model 3 bought in 2022.",
    day=25, conv="0330", tags=["car"])
mem("t18", U, "Car", "The user sold the Tesla and now drives a BYD Seal.",
    day=240, conv="0915", tags=["car"])
mem("t19", U, "Fitness", "The user swims twice a week at the gym near the office.",
    day=90, conv="0610", tags=["fitness"])
mem("t20", U, "Restaurant", "The user recommended a Yunnan restaurant called Lost Heaven to a friend.",
    day=262, conv="0928", tags=["food"])
mem("t21", U, "Language", "The user speaks Mandarin and basic Japanese.",
    day=15, conv="0305", tags=["language"], mtype="UserMemory")
mem("t22", U, "Pet", "The user's family adopted a corgi named Doudou.",
    day=210, conv="0905", tags=["pet"])

pref("tp1", U, "The user prefers quiet, historic cities over big shopping destinations.",
     "Said crowds ruin trips; enjoyed Xi'an's old town most.", day=97, conv="0618")
pref("tp2", U, "The user prefers high-speed rail to flying for trips under five hours.",
     "Mentioned airports waste time and trains are more comfortable.", day=121, conv="0715")
pref("tp3", U, "The user likes boutique or design hotels with a reading space.",
     "Praised the library in the Atour hotel.", day=98, conv="0618", ptype="implicit_preference")
pref("tp4", U, "The user does not want any seafood in restaurant suggestions.",
     "Shellfish allergy.", day=152, conv="0801")
pref("tp5", U, "The user wants family-friendly activities suitable for a young child.",
     "Travels with a five-year-old daughter.", day=153, conv="0801", ptype="implicit_preference")

ask("q01", U, "I want to travel during the National Day holiday. Please recommend a city I "
    "haven't been to and a hotel brand I haven't stayed at.",
    ["t01", "t02", "t03", "t04", "t05", "t06", "t07", "t08", "t12"],
    kind="demo", conv="0928", prefs=["tp1", "tp3"])
ask("q02", U, "Which cities has the user already visited?", ["t01", "t02", "t03", "t04"],
    kind="paraphrase")
ask("q03", U, "What hotel chains has the user stayed at before?", ["t05", "t06", "t07", "t08"],
    kind="paraphrase")
ask("q04", U, "Is there any food the user cannot eat?", ["t11"], kind="paraphrase",
    prefs=["tp4"])
ask("q05", U, "What does the user do for a living?", ["t09"], kind="paraphrase")
ask("q06", U, "What car does the user drive now?", ["t18"], kind="recency")
ask("q07", U, "How much money can the user spend on the trip?", ["t13"], kind="conversation",
    conv="0928")
ask("q08", U, "What was the name of that restaurant I mentioned?", ["t20"], kind="conversation",
    conv="0928")
ask("q09", U, "Hilton", ["t05"], kind="keyword")
ask("q10", U, "Plan a weekend trip with my kid", ["t10"], kind="demo", conv="1120",
    prefs=["tp5", "tp2"])
ask("q11", U, "Does the user have any pets?", ["t22"], kind="paraphrase")
ask("q12", U, "How long is the user's holiday break?", ["t12"], kind="conversation", conv="0928")

# --- alice: an engineer who moved cities --------------------------------------------------------
A = "alice"
mem("a01", A, "Home", "Alice lives in Boston and rents an apartment in Cambridge.",
    day=3, conv="a-jan", tags=["home"])
mem("a02", A, "Home", "Alice moved to Seattle in August and now lives in Capitol Hill.",
    day=220, conv="a-aug", tags=["home"])
mem("a03", A, "Work", "Alice is a backend engineer who writes Go and Rust.",
    day=4, conv="a-jan", tags=["work"], mtype="UserMemory")
mem("a04", A, "Work", "Alice joined a startup building a vector database in September.",
    day=250, conv="a-sep", tags=["work"])
mem("a05", A, "Pet", "Alice has a grey cat named Miso who hates the vacuum cleaner.",
    day=20, conv="a-jan", tags=["pet"])
mem("a06", A, "Running", "Alice ran the Boston Marathon in 3 hours 41 minutes.",
    day=105, conv="a-apr", tags=["running", "sport"])
mem("a07", A, "Running", "Alice is training for the Seattle half marathon in November.",
    day=260, conv="a-sep", tags=["running", "sport"])
mem("a08", A, "Language", "Alice is learning Japanese with a tutor every Tuesday evening.",
    day=60, conv="a-mar", tags=["language", "learning"])
mem("a09", A, "Travel", "Alice plans a trip to Kyoto next spring to see the cherry blossoms.",
    day=270, conv="a-oct", tags=["travel", "plan"])
mem("a10", A, "Food", "Alice is vegetarian and has not eaten meat since 2019.",
    day=8, conv="a-jan", tags=["food", "diet"], mtype="UserMemory")
mem("a11", A, "Health", "Alice had knee pain after long runs and sees a physiotherapist.",
    day=140, conv="a-may", tags=["health", "running"])
mem("a12", A, "Books", "Alice's favourite book is The Left Hand of Darkness by Ursula K. Le Guin.",
    day=35, conv="a-feb", tags=["books"])
mem("a13", A, "Music", "Alice plays the cello in a community orchestra.",
    day=50, conv="a-feb", tags=["music", "hobby"])
mem("a14", A, "Family", "Alice's brother Tom is getting married in Portland in December.",
    day=280, conv="a-oct", tags=["family", "event"])
mem("a15", A, "Gift", "Alice is looking for a wedding gift for Tom and his fiancee Priya.",
    day=300, conv="a-nov", tags=["family", "gift"], mtype="WorkingMemory")
mem("a16", A, "Gift", "Tom and Priya love hiking and specialty coffee.",
    day=300, conv="a-nov", tags=["family", "gift"], mtype="WorkingMemory")
mem("a17", A, "Setup", "Alice uses a split ergonomic keyboard and a standing desk.",
    day=255, conv="a-sep", tags=["work", "gear"])
mem("a18", A, "Commute", "Alice commutes by bike, about 20 minutes each way.",
    day=225, conv="a-aug", tags=["commute"])
mem("a19", A, "Phone", "Alice's phone number ends in 4471.", day=12, conv="a-jan",
    tags=["contact"], mtype="UserMemory")
mem("a20", A, "Coffee", "Alice drinks oat milk flat whites.", day=45, conv="a-feb",
    tags=["food", "coffee"])
mem("a21", A, "Career", "Alice is considering a move into engineering management next year.",
    day=290, conv="a-oct", tags=["work", "career"])

pref("ap1", A, "Alice wants vegetarian food suggestions only.", "She has been vegetarian since 2019.",
     day=9, conv="a-jan")
pref("ap2", A, "Alice prefers concise answers with code examples in Go.",
     "Asked twice to skip long explanations.", day=70, conv="a-mar")
pref("ap3", A, "Alice prefers morning workouts before work.",
     "Chooses early runs in her training plan.", day=262, conv="a-sep", ptype="implicit_preference")
pref("ap4", A, "Alice dislikes gifts that are clutter; she prefers experiences.",
     "Said she gives experiences rather than objects.", day=301, conv="a-nov")

ask("q13", A, "Where does Alice live now?", ["a02"], kind="recency")
ask("q14", A, "What programming languages does Alice use?", ["a03"], kind="paraphrase",
    prefs=["ap2"])
ask("q15", A, "Tell me about Alice's cat", ["a05"], kind="paraphrase")
ask("q16", A, "What race is Alice preparing for?", ["a07"], kind="recency")
ask("q17", A, "Suggest a dinner recipe for Alice", ["a10"], kind="preference", prefs=["ap1"])
ask("q18", A, "What should I get them?", ["a15", "a16"], kind="conversation", conv="a-nov",
    prefs=["ap4"])
ask("q19", A, "Which instrument does Alice play?", ["a13"], kind="paraphrase")
ask("q20", A, "cello orchestra", ["a13"], kind="keyword")
ask("q21", A, "What company does Alice work for now?", ["a04"], kind="recency")
ask("q22", A, "Why does Alice's knee hurt?", ["a11"], kind="paraphrase")
ask("q23", A, "Kyoto", ["a09"], kind="keyword")
ask("q24", A, "Help me plan a training week", ["a07", "a11"], kind="demo", conv="a-nov",
    prefs=["ap3"])

# --- chen_wei: memories written in Chinese ------------------------------------------------------
C = "chen_wei"
mem("c01", C, "基本信息", "陈伟在北京一家互联网公司做数据分析师。", day=2, conv="c-01",
    tags=["工作"], mtype="UserMemory")
mem("c02", C, "饮食", "陈伟每天早上喝一杯美式咖啡，不加糖。", day=6, conv="c-01", tags=["饮食"])
mem("c03", C, "运动", "陈伟周末喜欢去香山爬山。", day=30, conv="c-02", tags=["运动"])
mem("c04", C, "家庭", "陈伟的妻子是一名小学老师，他们有一个儿子叫小明。", day=12, conv="c-01",
    tags=["家庭"], mtype="UserMemory")
mem("c05", C, "学习", "陈伟正在学习机器学习，最近在看深度学习的课程。", day=100, conv="c-03",
    tags=["学习"])
mem("c06", C, "旅行", "陈伟去年国庆去了云南大理和丽江。", day=40, conv="c-02", tags=["旅行"])
mem("c07", C, "健康", "陈伟有轻微的颈椎病，需要注意坐姿。", day=80, conv="c-03", tags=["健康"])
mem("c08", C, "宠物", "陈伟家里养了一只橘猫，名字叫胖虎。", day=55, conv="c-02", tags=["宠物"])
mem("c09", C, "手机", "陈伟用的是华为手机。", day=20, conv="c-01", tags=["设备"])
mem("c10", C, "读书", "陈伟最喜欢的小说是刘慈欣的《三体》。", day=65, conv="c-02", tags=["读书"])
mem("c11", C, "住址", "陈伟住在北京海淀区，离公司很近。", day=3, conv="c-01", tags=["住址"])
mem("c12", C, "住址", "陈伟搬到了上海浦东，换了新工作。", day=230, conv="c-04", tags=["住址"])
mem("c13", C, "工作", "陈伟现在在上海一家金融科技公司做机器学习工程师。", day=232, conv="c-04",
    tags=["工作"])
mem("c14", C, "音乐", "陈伟喜欢听周杰伦的歌。", day=90, conv="c-03", tags=["音乐"])
mem("c15", C, "English", "Chen Wei is preparing for the IELTS exam in January.", day=280,
    conv="c-05", tags=["study", "english"])
mem("c16", C, "计划", "陈伟打算春节带家人回老家湖南过年。", day=300, conv="c-05",
    tags=["计划", "家庭"], mtype="WorkingMemory")
mem("c17", C, "饮食", "陈伟不吃香菜。", day=7, conv="c-01", tags=["饮食"])
mem("c18", C, "车", "陈伟最近在考驾照，科目二还没过。", day=285, conv="c-05", tags=["驾照"])

pref("cp1", C, "陈伟喜欢简洁直接的回答。", "多次要求少说废话。", day=15, conv="c-01")
pref("cp2", C, "陈伟不吃香菜，推荐菜品时要避开。", "明确说过不吃香菜。", day=8, conv="c-01")
pref("cp3", C, "陈伟更喜欢自然风光而不是城市观光。", "喜欢爬山和大理的风景。", day=45, conv="c-02",
     ptype="implicit_preference")

ask("q25", C, "陈伟喝什么咖啡？", ["c02"], kind="chinese")
ask("q26", C, "陈伟养了什么宠物", ["c08"], kind="chinese")
ask("q27", C, "陈伟现在住在哪里？", ["c12"], kind="recency")
ask("q28", C, "陈伟现在做什么工作？", ["c13"], kind="recency")
ask("q29", C, "三体", ["c10"], kind="chinese")
ask("q30", C, "推荐一家餐厅", ["c17"], kind="preference", prefs=["cp2"])
ask("q31", C, "Which exam is Chen Wei preparing for?", ["c15"], kind="paraphrase")
ask("q32", C, "春节有什么安排？", ["c16"], kind="conversation", conv="c-05")
ask("q33", C, "陈伟的身体有什么问题", ["c07"], kind="chinese")
ask("q34", C, "周末去哪里玩", ["c03"], kind="demo", conv="c-05", prefs=["cp3"])
ask("q35", C, "驾照考得怎么样了", ["c18"], kind="conversation", conv="c-05")
ask("q36", C, "陈伟的儿子叫什么名字", ["c04"], kind="chinese")

# --- same question, different conversation: only the conversation can tell them apart ---------
mem("t23", U, "Weekend plan", "For the weekend trip the user is choosing between Moganshan and Wuzhen.",
    day=322, conv="1120", tags=["plan", "travel"], mtype="WorkingMemory")
mem("t24", U, "Business trip plan", "For the business trip the user is choosing between Shenzhen and Guangzhou.",
    day=121, conv="0715", tags=["plan", "work"], mtype="WorkingMemory")
ask("q37", U, "Which places am I choosing between for the trip?", ["t23"], kind="conversation",
    conv="1120")
ask("q38", U, "Which places am I choosing between for the trip?", ["t24"], kind="conversation",
    conv="0715")
mem("a22", A, "Reminder", "Alice asked for a reminder to book the restaurant for Friday dinner.",
    day=302, conv="a-nov", tags=["reminder"], mtype="WorkingMemory")
mem("a23", A, "Reminder", "Alice asked for a reminder to renew her passport before it expires.",
    day=258, conv="a-sep", tags=["reminder"], mtype="WorkingMemory")
ask("q39", A, "What did I ask you to remind me about?", ["a22"], kind="conversation", conv="a-nov")
ask("q40", A, "What did I ask you to remind me about?", ["a23"], kind="conversation", conv="a-sep")
mem("c19", C, "出行", "陈伟问了去长沙的高铁票价格。", day=301, conv="c-05", tags=["出行"],
    mtype="WorkingMemory")
mem("c20", C, "出行", "陈伟问了去成都的机票价格。", day=95, conv="c-03", tags=["出行"],
    mtype="WorkingMemory")
ask("q41", C, "我问的是去哪里的票？", ["c19"], kind="conversation", conv="c-05")
ask("q42", C, "我问的是去哪里的票？", ["c20"], kind="conversation", conv="c-03")

demo = {"name": "demo", "memories": memories, "preferences": preferences, "queries": queries}
out = Path(__file__).resolve().parents[1] / "hybridmem" / "data" / "demo.json"
out.write_text(json.dumps(demo, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
print(f"wrote {out}: {len(memories)} memories, {len(preferences)} preferences, "
      f"{len(queries)} queries")
