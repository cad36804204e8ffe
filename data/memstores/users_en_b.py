"""English memory-store users ms_en_09 .. ms_en_16 (hand-written for hybridmem).

Each user is built by one function below from hand-written content; the small helpers only
turn compact tuples into the plain dicts ``schema.User`` decodes (see ``schema.py``).
"""

from __future__ import annotations


def _conv(cid, date, *turns):
    """A conversation from ``(HH:MM, user message, assistant reply)`` tuples."""
    return {
        "id": cid,
        "date": date,
        "turns": [{"time": t, "user": u, "assistant": a} for t, u, a in turns],
    }


def _fact(key, memory_key, value, date, src=None, tags=(), mt="LongTermMemory",
          status="activated", replaces=None, conf=0.9):  # fmt: skip
    d = {
        "key": key,
        "memory_key": memory_key,
        "value": value,
        "date": date,
        "tags": list(tags),
        "memory_type": mt,
        "status": status,
        "confidence": conf,
    }
    if src is not None:
        d["source"] = src
        d["conversation"] = src.split("#")[0]
    if replaces is not None:
        d["replaces"] = replaces
    return d


def _pref(key, text, date, reasoning="", src=None):
    d = {
        "key": key,
        "text": text,
        "date": date,
        "type": "implicit_preference" if reasoning else "explicit_preference",
        "reasoning": reasoning,
    }
    if src is not None:
        d["source"] = src
        d["conversation"] = src.split("#")[0]
    return d


def _q(kind, now, query, rel=(), prefs=(), stale=(), conv=None):
    d = {
        "query": query,
        "kind": kind,
        "now": now,
        "relevant": list(rel),
        "preferences": list(prefs),
        "stale": list(stale),
    }
    if conv is not None:
        d["conversation"] = conv
    return d


# --------------------------------------------------------------------------------------------
# ms_en_09: Deepa Raman, hospital pharmacist in Manchester (heavy user, mostly extracted facts)
# --------------------------------------------------------------------------------------------


def _u09():
    F = _fact
    convs = [
        _conv("c01", "2024-10-20",
              ("19:42", "ok I did it, I signed up for the Manchester Marathon in April. first ever marathon. what sort of plan should I follow if I can only run 4 days a week?",
               "Congratulations! With four days a week a 20-week plan works well: one long run, one tempo or interval session, and two easy runs, building the long run to about 30-32 km three weeks before race day."),
              ("19:50", "and what should my goal be? my half PB is 2:03",
               "A 2:03 half suggests roughly 4:20-4:30 for a first marathon. Aiming for under 4:30 and running the first half conservatively is sensible."),
              ("19:55", "sub 4:30 it is. can you make the long runs go up by 2k a week with a cutback every 4th week",
               "Sure: 12, 14, 16, 12 (cutback), 18, 20, 22, 16 (cutback), 24, 26, 28, 20 (cutback), 30, 32, then taper with 24, 16 and race week."),
              ("20:03", "perfect. tuesdays and thursdays are club nights so put the quality sessions there",
               "Done: intervals or tempo on Tuesdays and Thursdays with the club, easy runs on Wednesday, long run on Sunday.")),
        _conv("c02", "2024-11-06",
              ("12:15", "think I'm lactose intolerant?? every time I have a latte at work I feel awful. cheese seems fine tho",
               "That pattern fits mild lactose intolerance: hard cheeses are very low in lactose while milk is high. Try oat or lactose-free milk for a couple of weeks and see if it settles; mention it to your GP if it doesn't."),
              ("12:21", "switched to oat already. any high protein veggie lunches that aren't dairy heavy",
               "Some ideas: lentil and chickpea salads, tofu noodle bowls, bean chilli, tempeh wraps, edamame and quinoa bowls, or dal with rice. All travel well for a hospital lunch break."),
              ("12:30", "no eggs please, I don't eat them", "Noted, all of those are egg-free.")),
        _conv("c03", "2024-11-20",
              ("21:05", "car insurance renewal for the jazz came in at £612!! last year was 430. is that normal",
               "Renewal quotes often jump; insurers rely on people not shopping around. Compare on a couple of comparison sites and call your insurer with the cheapest quote, they often match it."),
              ("21:12", "it's a 2016 Honda Jazz, 1.3, I do maybe 5000 miles a year. I cycle to work mostly",
               "Low mileage and no commuting use should help. Make sure the policy lists social, domestic and pleasure only, and set the mileage to 5,000."),
              ("21:30", "got it down to £455 with Admiral, sorted", "Nice, that's a good saving.")),
        _conv("c04", "2024-12-02",
              ("18:40", "going to Kerala with mum, dad and Tom from the 18th to the 31st! Kochi, Munnar then a houseboat in Alleppey. what should I pack",
               "Light cotton clothes, a light jacket or fleece for Munnar (it gets cool at night), modest clothing for temples, mosquito repellent, sun cream, sandals plus shoes for tea-estate walks, and a universal adaptor (India uses type C/D sockets)."),
              ("18:46", "do I need any vaccines", "Check with a travel clinic at least 4 weeks ahead; hepatitis A and typhoid are commonly recommended for India, and make sure your routine vaccines are up to date."),
              ("18:52", "flight is 11 hours, I always need the aisle, I'm up and down the whole time", "Worth picking seats as soon as check-in opens then; I'll keep in mind you like aisle seats."),
              ("19:01", "what's a good gift to bring for my aunt in Kochi", "Good British treats travel well: a tin of shortbread, nice tea, or a Marks & Spencer hamper-style box. A cashmere-blend scarf is also popular.")),
        _conv("c05", "2025-01-16",
              ("07:55", "shins are killing me. had to cut sunday's long run from 16 to 9k. seeing a physio tomorrow at Physio Hub Chorlton",
               "Sounds like it could be shin splints (medial tibial stress syndrome). Until the physio sees you: reduce running volume, ice after activity, and avoid hills and hard surfaces. Ask them about calf strengthening."),
              ("18:20", "physio (Priyanka) says shin splints. 10 days off running, calf raises, then back gradually. will I still make april??",
               "Very likely yes. You're 11 weeks out; losing 10 days now costs little fitness. Cross-train on a bike or in the pool to keep aerobic fitness, and rebuild the long run carefully."),
              ("18:31", "ok. can you redo my long runs from feb", "From 2 Feb: 14, 18, 20, 24, 28, 32 (on 2 Mar), then taper 24, 16, race day.")),
        _conv("c06", "2025-01-28",
              ("13:10", "so I've decided to start eating eggs. mum will be horrified lol but I can't hit my protein otherwise. still no meat or fish ever",
               "That's a very common choice for vegetarian endurance athletes. Eggs are a cheap, complete protein. Two eggs give about 12-13 g of protein."),
              ("13:18", "what's a good target for someone 58kg running 50k a week", "Around 1.4-1.7 g per kg per day, so roughly 80-100 g of protein a day for you."),
              ("13:25", "give me 3 breakfasts", "1) Veggie omelette with spinach and feta. 2) Overnight oats with oat milk, protein powder and berries. 3) Tofu and egg scramble on sourdough.")),
        _conv("c07", "2025-02-08",
              ("10:02", "OUR OFFER GOT ACCEPTED!!! 265k on the terrace on Cromwell Grove in Levenshulme",
               "Congratulations! That's huge news. The next steps are instructing a conveyancing solicitor, getting your mortgage application in, and booking a survey."),
              ("10:09", "what survey do I need for a 1905 terraced house", "For a Victorian or Edwardian terrace a RICS Level 3 (building survey) is recommended, since it covers structure, damp and roofs in detail."),
              ("10:15", "how long till we can move in roughly", "Typically 8-12 weeks from offer to completion in England if there's no long chain."),
              ("10:20", "our landlord needs 2 months notice on the Burton Road flat, when should we give it", "Wait until you have a mortgage offer and a likely completion date, then give notice so the two overlap by a couple of weeks."),
              ("10:32", "and stamp duty? first time buyers", "As first-time buyers buying under £300,000 before 1 April 2025 you pay no stamp duty. From 1 April the threshold drops to £300,000 for the relief on the first part, so £265k would still be 0 for first-time buyers.")),
        _conv("c08", "2025-02-10",
              ("20:14", "Tom's birthday is 3 March. ideas? he's a geography teacher, loves maps and walking, hates clutter",
               "A few ideas: 1) a framed vintage Ordnance Survey map of where he grew up, 2) a weekend walking trip in the Peak District, 3) a subscription to a walking magazine, 4) a good compass or a map-reading course."),
              ("20:20", "he grew up in Hebden Bridge", "Then an original 1950s OS map of Hebden Bridge and Calderdale, framed, would be lovely. Dealers on eBay and Etsy sell originals."),
              ("20:31", "the map or the weekend away? budget 200", "Given he hates clutter, the weekend away fits better, and experiences tend to be remembered longer. You could do a night in Edale and walk Kinder Scout."),
              ("20:40", "weekend away it is. edale + kinder scout. thanks!!", "Lovely choice. Book accommodation soon, early March weekends fill up.")),
        _conv("c09", "2025-03-02",
              ("16:45", "broker says 2 options: 2yr fix 4.19% or 5yr fix 4.39% with Nationwide. which",
               "It depends on whether you value certainty or flexibility. The 5-year fix protects you from rate rises and suits you if you plan to stay put. The 2-year is slightly cheaper but you'll remortgage in 2027 at unknown rates."),
              ("16:52", "we're going with the 5 year. we'll be there ages. repayments about £1,268 a month", "Sounds sensible. Set a reminder about six months before the fix ends in 2030 to look at remortgaging."),
              ("17:05", "also did my 32k long run this morning, 3:31, legs are jelly", "Brilliant, that's the big one done. Eat, hydrate, and take it easy tomorrow.")),
        _conv("c10", "2025-04-07",
              ("09:12", "I DID IT. 4:21:37 yesterday. hit the wall at 35k but kept going", "Huge congratulations on your first marathon, and under 4:30! How are your legs?"),
              ("09:15", "stairs are a nightmare. how long before I run again", "A common rule is one easy day per mile raced, so take roughly 2-3 weeks easy. Walk, stretch, and do short easy jogs from next week if it feels good."),
              ("09:22", "thinking about chester in october. is that too soon", "Six months is plenty of time to recover and build again. Chester is a good autumn choice.")),
        _conv("c11", "2025-05-05",
              ("21:10", "lisbon with sophie and jess 16-19 may. need somewhere in Alfama for 3, budget ~£120 a night total",
               "Options in that range: Casa Alfama (small guesthouse, triple room with a terrace, about £115/night), Memmo Alfama (boutique hotel, rooftop pool, but about £210/night for a triple), or an apartment in Graça near the Miradouro."),
              ("21:18", "memmo looks gorgeous but way over. what about the apartment", "The Graça apartment is around £105/night, sleeps 3, but it's on the 4th floor with no lift and reviews mention street noise at night."),
              ("21:25", "noise is a no from me, I'm a terrible sleeper. so casa alfama?", "Casa Alfama seems the best fit: in budget, quiet side street, and breakfast included."),
              ("21:31", "booked Casa Alfama!", "Great, enjoy Lisbon! Try the pastéis de nata at Manteigaria.")),
        _conv("c12", "2025-05-22",
              ("19:00", "got an interview on the 28th for pharmacy manager at Heaton Moor Pharmacy in Stockport. independent, they want a prescriber. what will they ask",
               "Expect questions on leadership, handling staff conflict, running clinical services (NHS Pharmacy First, blood pressure checks), stock and budget management, and how you'd use your prescribing."),
              ("19:08", "I've never managed a team. only supervised techs on the ward", "Supervising technicians counts. Use a STAR example: a situation where you organised the team, handled a problem, and what the result was."),
              ("19:20", "why am I leaving the MRI? I don't want to sound negative", "Frame it positively: you want to use your new prescribing qualification in a community setting, run your own clinics, and have more regular hours."),
              ("19:26", "good. any questions I should ask them", "Ask about the services they want to grow, the team size, how they measure success in the first 6 months, and support for CPD.")),
        _conv("c13", "2025-06-08",
              ("15:30", "WE GOT A KITTEN. black, 12 weeks, from the RSPCA. called her Pickle. how do I introduce her to Biscuit",
               "Exciting! Keep Pickle in a separate room for the first few days with her own litter tray, food and bed. Swap bedding so they get used to each other's scent, then do short supervised meetings."),
              ("15:41", "biscuit is 6 and a bit grumpy", "Older cats can take 2-4 weeks to accept a kitten. Give Biscuit plenty of high places to escape to and keep his routine the same."),
              ("16:02", "what food for a kitten", "A complete kitten food (wet and dry) until about 12 months, fed 3-4 small meals a day."),
              ("16:10", "and when does she need to be spayed", "Most UK vets recommend neutering at around 4 months, so book for August.")),
        _conv("c14", "2025-06-18",
              ("08:30", "boiler finally died. Gary the plumber (Gary Hollis) quoted £2,850 for a Worcester Bosch Greenstar 4000 fitted. good price?",
               "That's a reasonable price for a combi boiler replacement including fitting in the North West, especially if it includes a magnetic filter and a 10+ year warranty."),
              ("08:36", "warranty is 12 years if we register it", "Make sure Gary registers it within 30 days and you keep the annual service, or the warranty can be void."),
              ("17:50", "installed today! hot showers again", "Great! Put a reminder in for the first annual service in June 2026.")),
        _conv("c15", "2025-08-09",
              ("14:20", "bought a car!! 2022 Kia e-Niro, white, 28k miles, £17,400. sold the Jazz to webuyanycar for 6,200",
               "Congratulations on going electric! The e-Niro's real-world range is about 240-280 miles. Next step is a home charger."),
              ("14:28", "which charger. we have off street parking", "Popular choices are the Hypervolt Home 3, Ohme Home Pro and Zappi. Hypervolt and Ohme both work with Octopus Intelligent Go."),
              ("14:35", "hypervolt. and the tariff?", "Octopus Intelligent Go gives about 7p/kWh for six hours overnight, which makes a full charge cost about £4-5."),
              ("14:44", "commute is only 15 min now anyway", "Then you'll charge maybe once a week.")),
        _conv("c16", "2025-09-16",
              ("20:05", "omg. Tom proposed!!! on sunday at Tarn Hows. I said yes obviously", "Congratulations to you both! Tarn Hows is a beautiful spot. How are you feeling?"),
              ("20:12", "still shaking lol. we were up in Ambleside for the weekend, stayed at The Old Vicarage B&B, I had no idea", "What a perfect surprise. The ring?"),
              ("20:18", "it's a sapphire, his grandma's. anyway, where do we even start with planning", "Start with three things: rough budget, guest numbers, and season. Those decide venue options, which should be booked first.")),
        _conv("c17", "2025-10-05",
              ("11:00", "wedding budget chat. we're thinking 18k, 80 guests. realistic in the north?", "It's realistic if you choose a venue that allows your own catering or has good packages. The average UK wedding is around £20,000, so £18k for 80 is doable."),
              ("11:10", "my parents want a Hindu ceremony as well as the english one. same day?", "Many couples do a morning Hindu ceremony and an afternoon/evening reception. Check the venue allows a fire for the havan or has a covered outdoor space."),
              ("11:22", "we opened a joint chase saver, 700 a month between us", "At £700 a month, you'll have about £7,000 more by August 2026 on top of what you already have."),
              ("11:28", "we have 9k so far", "So roughly £16,000 by the wedding, close to the target.")),
        _conv("c18", "2025-10-20",
              ("18:15", "chester was 4:02:10!!! 19 minutes faster than manchester. I want sub 4 at manchester 2026, entered already (19 april)",
               "Brilliant improvement! Sub-4 needs 5:41/km average. With a good winter block and your 4:02, that's very achievable."),
              ("18:22", "last time I faded after 32k", "Focus on long runs with marathon-pace sections, fuelling practice, and strength work for the late-race fade."),
              ("18:30", "I'll probably use runna this time", "Runna can build a plan around a target time and your available days; just make sure the long run increases gradually.")),
        _conv("c19", "2025-11-06",
              ("17:40", "vet says biscuit is hyperthyroid. T4 was 78 (normal under 50?). he's been eating loads and losing weight",
               "That's a classic picture. Hyperthyroidism in older cats is common and very treatable. Options are medication, a special iodine-restricted diet, or radioactive iodine treatment."),
              ("17:46", "Dr Grant prescribed Felimazole 2.5mg twice a day", "Felimazole (methimazole) works well. Give it with food at the same times each day, and the vet will recheck his T4 in 3-4 weeks."),
              ("17:55", "he spits tablets out. any tricks", "Try pill pockets, hiding it in a small bit of wet food, or ask the vet about a transdermal gel applied to the ear."),
              ("18:02", "also is pickle ok eating his food?", "Try to feed them apart: Pickle shouldn't eat Biscuit's medicated food, and Biscuit needs to get all his dose.")),
        _conv("c20", "2025-11-10",
              ("21:00", "dad turns 65 on the 30th. party at theirs in Leicester. gift ideas from me and Tom? he loves cricket and gardening",
               "Ideas: 1) tickets to a Test match at Trent Bridge next summer, 2) a personalised cricket bat signed by the Leicestershire squad, 3) a premium gardening tool set, 4) a day at a cricket coaching experience."),
              ("21:08", "he already has way too many tools", "Then the cricket options are better. England play at Trent Bridge in summer 2026; tickets go on sale in the winter."),
              ("21:15", "anjali wants to chip in too", "Split three ways you could get good hospitality tickets for the two of you plus him."),
              ("21:24", "ok decided: trent bridge test tickets for dad and me, anjali's sorting a framed photo from his 40th", "Lovely combination, one experience and one keepsake.")),
        _conv("c21", "2025-11-18",
              ("07:40", "outside of my right knee hurts after about 10k. worse going downstairs", "Lateral knee pain that comes on at a consistent distance is often IT band syndrome. See your physio before it gets worse."),
              ("19:10", "saw priyanka, she thinks ITB. clamshells, side planks, foam roller, and no long runs for 2 weeks", "Good plan. Hip strength is the key. Keep easy runs short and flat, and stop if the pain starts."),
              ("19:16", "will this mess up my sub 4", "Your plan starts mid-December, so two weeks now is actually good timing.")),
        _conv("c22", "2025-12-14",
              ("10:30", "runna plan starts tomorrow. 18 weeks, 5 days a week, target 3:58", "That's a solid target. 5 days gives room for two easy runs, a tempo, intervals and the long run."),
              ("10:38", "long run is sunday again, quality on tue/thu with club", "Keeping club nights for quality sessions makes sense. Make Monday a rest day after the long run."),
              ("10:45", "peak long run is 34k on 29 march", "That gives three weeks to taper before 19 April, perfect.")),
        _conv("c23", "2026-01-06",
              ("20:20", "copenhagen 13-16 feb for tom's half term!! what should we do", "Winter Copenhagen is lovely: Tivoli's winter lights (check dates), Nyhavn, Rosenborg Castle, Christiania, a canal tour, Torvehallerne food market and a sauna at CopenHot."),
              ("20:28", "flights booked: easyjet EZY2143 manchester 07:05 on the 13th, back EZY2144 on the 16th. ref K7XQ2PM", "Got it. The outbound lands around 10:00 local time, so you'll have most of the first day."),
              ("20:35", "need vegetarian places", "Try Souls, 42Raw, Bistro Lupa, and the plant-based stalls at Reffen street food market (check it's open in February)."),
              ("20:40", "is it going to be freezing", "Expect 0-4°C, often windy and grey. Pack a warm coat, hat and waterproof shoes.")),
        _conv("c24", "2026-01-14",
              ("19:05", "hotel for copenhagen, 3 nights. want somewhere central but quiet, under £650 total", "Options: Hotel SP34 in the Latin Quarter (boutique, about £612 for 3 nights), Absalon Hotel in Vesterbro (about £540, near the station), or Steel House Copenhagen (about £380, more hostel-style)."),
              ("19:12", "steel house sounds like a hostel, no. absalon reviews say rooms facing the street are noisy", "You could request a courtyard room at Absalon, but SP34 gets consistently better reviews for quiet rooms and has free evening wine hour."),
              ("19:20", "SP34 then, and can I ask for a room away from the lift", "Yes, add it as a special request when booking or email them afterwards."),
              ("19:26", "booked SP34, £612, asked for a quiet room", "Lovely, you're all set for accommodation.")),
        _conv("c25", "2026-01-19",
              ("12:40", "sophie is organising the hen do, 6-7 june. she's thinking Bath. is that far from manchester", "Bath is about 3 to 3.5 hours by train from Manchester Piccadilly, usually with a change at Bristol."),
              ("12:46", "I don't want anything with strippers or loads of drinking. spa + nice dinner is more me", "Bath is perfect for that: Thermae Bath Spa, afternoon tea, and a nice dinner. I'd tell Sophie directly so she can plan around it.")),
        _conv("c26", "2026-01-25",
              ("16:10", "22k long run done this morning, fuelled with a maurten every 40 mins and no stomach issues", "Excellent, that's exactly the practice you need. How did the knee feel?"),
              ("16:14", "knee a bit achy at the end but ok. meal prep ideas for the week? need it quick", "Quick options: a big tray of roasted veg and chickpeas, a lentil bolognese, egg fried rice with tofu, and overnight oats for breakfasts."),
              ("16:20", "doing the lentil bolognese", "Good choice; it freezes well too.")),
        _conv("c27", "2025-07-15",
              ("13:05", "new job has NEST pension at 5%, I was in the NHS pension before. should I transfer it?", "Usually no: the NHS Pension is a defined benefit scheme and very valuable. You can leave it deferred and it will still pay out at retirement."),
              ("13:12", "ok leaving it. can I put more than 5% into nest", "Yes, you can usually increase your contribution through payroll. Ask HR.")),
        _conv("c28", "2025-03-25",
              ("08:05", "how do I descale a kettle without vinegar, the flat smells of it for days", "Use citric acid: fill halfway with water, add 1-2 tablespoons of citric acid, boil, leave for 20 minutes, then rinse and boil fresh water twice."),
              ("08:10", "we're in a hard water area right", "Manchester actually has fairly soft water, so if you're getting a lot of scale it may be the kettle's age.")),
    ]

    facts = [
        # profile
        F("name", "Identity", "The user's name is Deepa Raman; she is a 34-year-old pharmacist living in Manchester.", "2024-10-03", mt="UserMemory", tags=["profile"]),
        F("bday", "Birthday", "The user said her birthday is on 22 July.", "2024-10-03", mt="UserMemory"),
        F("hometown", "Family", "The user grew up in Leicester, where her parents Lakshmi and Suresh still live.", "2024-10-10", mt="UserMemory", tags=["family"]),
        F("sister", "Family", "The user's younger sister Anjali is a solicitor living in London.", "2024-11-02", tags=["family"]),
        F("nephew", "Family", "On 2025-05-19 the user said her sister Anjali had given birth to a baby boy named Arjun.", "2025-05-19", tags=["family"]),
        F("dad65", "Family", "The user's father Suresh turns 65 on 30 November 2025; the family is throwing a party at her parents' house in Leicester.", "2025-10-28", tags=["family", "birthday"]),
        F("dad_gift", "Gift", "For her dad's 65th the user decided on Test match tickets at Trent Bridge for her and her dad; Anjali is giving a framed photo.", "2025-11-10", src="c20#3", tags=["gift"]),
        # relationship and wedding
        F("tom", "Relationship", "The user lives with her partner Tom Whitaker, a secondary-school geography teacher; they have been together since 2019.", "2024-10-03", mt="UserMemory", tags=["partner"]),
        F("tom_bday", "Birthday", "Tom's birthday is on 3 March.", "2025-02-10", src="c08#0"),
        F("tom_gift", "Gift", "For Tom's 2025 birthday the user chose a walking weekend in Edale with a Kinder Scout hike instead of a framed map.", "2025-02-10", src="c08#3", tags=["gift"]),
        F("engaged", "Relationship", "On September 14, 2025, Tom proposed to the user at Tarn Hows in the Lake District and she said yes; the ring is his grandmother's sapphire.", "2025-09-16", src="c16#0", replaces="tom", tags=["partner", "engagement"]),
        F("wedding_budget", "Wedding", "The user and Tom are planning a wedding for about 80 guests on a budget of roughly £18,000, with a Hindu ceremony as well as an English one.", "2025-10-05", src="c17#0", tags=["wedding", "budget"]),
        F("wedding_date", "Wedding", "The user and Tom have set their wedding date: Saturday 15 August 2026.", "2025-11-09", tags=["wedding"]),
        F("wedding_venue", "Wedding", "As of November 2025 the couple had booked The Old Byre in Edale as the wedding venue and paid a £2,000 deposit.", "2025-11-22", tags=["wedding", "venue"]),
        F("bridesmaids", "Wedding", "The user asked Sophie and Anjali to be her bridesmaids, with Anjali as maid of honour.", "2025-10-12", tags=["wedding"]),
        F("outfit", "Wedding", "The user plans to wear a red-and-gold silk saree for the ceremony and change into a white dress for the evening.", "2025-12-03", tags=["wedding"]),
        F("photographer", "Wedding", "On 2026-01-11 the user booked wedding photographer Ellie Marsh (Marsh & Meadow Photography) for £1,650.", "2026-01-11", tags=["wedding", "vendor"]),
        F("hen_do", "Wedding", "Sophie is organising the user's hen do for 6-7 June 2026, probably in Bath; the user wants a spa day and a nice dinner rather than a big drinking night.", "2026-01-19", src="c25#0", tags=["wedding", "hen do"]),
        # residence and house
        F("res_flat", "Residence", "The user rents a two-bedroom flat on Burton Road in Didsbury, Manchester, with Tom for £1,150 a month.", "2024-10-03", mt="UserMemory", tags=["home"]),
        F("house_offer", "House purchase", "On 2025-02-08 the user said their offer of £265,000 on a 1905 terraced house on Cromwell Grove, Levenshulme, had been accepted.", "2025-02-08", src="c07#0", tags=["house"]),
        F("mortgage", "Mortgage", "The user and Tom chose a 5-year fixed mortgage with Nationwide at 4.39%, with repayments of about £1,268 a month.", "2025-03-02", src="c09#1", tags=["house", "finance"]),
        F("res_house", "Residence", "The user and Tom moved into their own house on Cromwell Grove, Levenshulme, on 26 April 2025.", "2025-04-28", replaces="res_flat", mt="UserMemory", tags=["home"]),
        F("council_tax", "Bills", "The Cromwell Grove house is in council tax band B.", "2025-05-02", tags=["house", "bills"]),
        F("energy", "Bills", "The house's energy supplier is Octopus Energy; the direct debit is £118 a month.", "2025-05-02", tags=["bills"]),
        F("broadband", "Bills", "The user signed up for Hyperoptic 500Mb broadband at the new house for £30 a month.", "2025-05-01", tags=["bills"]),
        F("boiler", "Renovation", "On 2025-06-18 plumber Gary Hollis replaced the boiler with a Worcester Bosch Greenstar 4000 for £2,850, with a 12-year warranty if registered.", "2025-06-18", src="c14#0", tags=["house", "renovation"]),
        F("damp", "Renovation", "A damp survey in November 2025 found the back bedroom problem was condensation; the user bought a Meaco 12L dehumidifier.", "2025-11-15", tags=["house"]),
        F("bath_quote", "Renovation", "On 2026-01-08 the user got a quote of £3,400 from Gary Hollis to retile the bathroom, with the work planned for late February 2026.", "2026-01-08", tags=["house", "renovation"]),
        # job
        F("job_mri", "Job", "The user works as a Band 7 specialist cardiology pharmacist at Manchester Royal Infirmary.", "2024-10-03", mt="UserMemory", tags=["work"]),
        F("manager_mri", "Work", "The user's line manager at Manchester Royal Infirmary is Helen Cartwright.", "2024-11-14", tags=["work"]),
        F("mri_rota", "Work schedule", "At MRI the user works a rota including one weekend in three and occasional late shifts until 8pm.", "2024-11-14", tags=["work"]),
        F("ip_course", "Education", "The user is studying an independent prescribing course part-time, due to finish in March 2025.", "2024-10-20", tags=["education"]),
        F("ip_done", "Education", "On 2025-03-21 the user said she had passed her independent prescribing qualification and is now annotated as a prescriber on the GPhC register.", "2025-03-21", tags=["education", "work"]),
        F("interview", "Job search", "The user had an interview on 28 May 2025 for pharmacy manager at Heaton Moor Pharmacy, an independent pharmacy in Stockport.", "2025-05-22", src="c12#0", tags=["work", "interview"]),
        F("job_heaton", "Job", "Since 1 July 2025 the user has worked as pharmacy manager and independent prescriber at Heaton Moor Pharmacy in Stockport.", "2025-06-06", replaces="job_mri", mt="UserMemory", tags=["work"]),
        F("salary", "Salary", "The user's salary in the new job is £54,000 plus an annual bonus of up to £2,000.", "2025-06-06", tags=["work", "finance"]),
        F("boss_new", "Work", "Heaton Moor Pharmacy is owned by Imran Siddiqui, who is the user's boss.", "2025-07-09", tags=["work"]),
        F("new_hours", "Work schedule", "In the new job the user works Monday to Friday 8:30am to 6pm plus one Saturday in four.", "2025-07-09", replaces="mri_rota", tags=["work"]),
        F("hina", "Work", "Hina is a pharmacy technician at Heaton Moor who the user gets on well with.", "2025-08-13", tags=["work", "colleague"]),
        F("bp_clinic", "Work", "In October 2025 the user started running a walk-in blood pressure clinic at the pharmacy on Tuesday and Thursday mornings.", "2025-10-07", tags=["work"]),
        F("pension", "Pension", "The user left her NHS pension deferred rather than transferring it; in the new job she pays 5% into a NEST pension.", "2025-07-15", src="c27#1", tags=["finance"]),
        # commute and car
        F("commute_bike", "Commute", "The user cycles to Manchester Royal Infirmary from Didsbury along the Fallowfield Loop, about 25 minutes.", "2024-10-12", tags=["commute"]),
        F("car_jazz", "Car", "The user owns a 2016 silver Honda Jazz 1.3 and drives about 5,000 miles a year; she renewed its insurance with Admiral for £455.", "2024-11-20", src="c03#0", tags=["car"]),
        F("car_niro", "Car", "On 2025-08-09 the user bought a white 2022 Kia e-Niro with 28k miles for £17,400 and sold the Honda Jazz to webuyanycar for £6,200.", "2025-08-09", src="c15#0", replaces="car_jazz", tags=["car"]),
        F("charger", "Car", "A Hypervolt home charger was installed at the house on 2025-08-20; the user is on Octopus Intelligent Go at about 7p/kWh overnight.", "2025-08-20", tags=["car", "bills"]),
        F("commute_drive", "Commute", "Since July 2025 the user drives to work in Heaton Moor, about 15 minutes each way.", "2025-08-09", src="c15#3", replaces="commute_bike", tags=["commute"]),
        # running
        F("club", "Running club", "The user runs with South Manchester Harriers on Tuesday and Thursday evenings.", "2024-10-12", tags=["running"]),
        F("parkrun_old", "Parkrun", "The user does Fletcher Moss parkrun most Saturdays; her PB there is 24:51.", "2024-11-09", tags=["running", "parkrun"]),
        F("parkrun_new", "Parkrun", "Since moving, the user does Platt Fields parkrun instead of Fletcher Moss; she set a PB of 24:02 there on 2025-09-27.", "2025-09-27", replaces="parkrun_old", tags=["running", "parkrun"]),
        F("mara1_goal", "Race", "The user signed up for the Manchester Marathon on 6 April 2025, her first marathon, aiming for under 4:30.", "2024-10-20", src="c01#0", tags=["running", "marathon"]),
        F("plan_2025", "Training plan", "For Manchester 2025 the user follows a 20-week, 4-days-a-week plan with long runs on Sundays and quality sessions at club on Tuesdays and Thursdays.", "2024-10-20", src="c01#3", tags=["running", "plan"]),
        F("mara1_result", "Race result", "The user finished the Manchester Marathon on 2025-04-06 in 4:21:37, her first marathon; she hit the wall at 35 km.", "2025-04-07", src="c10#0", tags=["running", "marathon"]),
        F("gnr", "Race result", "On 2025-09-07 the user ran the Great North Run half marathon in 1:55:40.", "2025-09-08", tags=["running", "half marathon"]),
        F("chester", "Race result", "The user ran the Chester Marathon on 5 October 2025 in 4:02:10, a personal best by 19 minutes.", "2025-10-06", tags=["running", "marathon"]),
        F("mara3_goal", "Race", "The user has entered the Manchester Marathon on 19 April 2026 and is aiming to run under 4 hours.", "2025-10-20", src="c18#0", tags=["running", "marathon"]),
        F("plan_2026", "Training plan", "For Manchester 2026 the user follows an 18-week Runna plan starting 15 December 2025, running 5 days a week with a target of 3:58 and a peak long run of 34 km on 29 March.", "2025-12-14", src="c22#0", tags=["running", "plan"]),
        F("shoes_ghost", "Running gear", "The user runs in Brooks Ghost 15, UK size 6.5.", "2024-11-02", tags=["running", "shoes"]),
        F("shoes_saucony", "Running gear", "In September 2025 the user bought Saucony Endorphin Speed 4 for tempo runs and racing, keeping the Brooks Ghosts for easy miles.", "2025-09-12", tags=["running", "shoes"]),
        F("watch_255", "Running gear", "The user tracks her runs with a Garmin Forerunner 255.", "2024-11-02", tags=["running", "gadget"]),
        F("watch_965", "Running gear", "Tom gave the user a Garmin Forerunner 965 for Christmas 2025 to replace her Forerunner 255.", "2025-12-27", replaces="watch_255", tags=["running", "gadget"]),
        F("shin", "Injury", "In January 2025 the user had shin splints; physio Priyanka at Physio Hub Chorlton prescribed 10 days off running and calf raises.", "2025-01-16", src="c05#1", tags=["running", "injury"]),
        F("itband", "Injury", "On 2025-11-18 the user's physio Priyanka suspected IT band syndrome in her right knee and prescribed clamshells, side planks, foam rolling and two weeks without long runs.", "2025-11-18", src="c21#1", tags=["running", "injury"]),
        F("gels", "Running nutrition", "The user uses Maurten Gel 100 on long runs because SiS gels upset her stomach.", "2025-03-15", tags=["running", "nutrition"]),
        F("marcus", "Friends", "Marcus Adeyemi from the running club is the user's regular long-run partner.", "2025-07-20", tags=["friends", "running"]),
        # gym
        F("gym_pure", "Gym", "The user has a PureGym membership in Didsbury (£24.99 a month) for strength work twice a week.", "2024-10-12", tags=["gym"]),
        F("gym_levy", "Gym", "In June 2025 the user cancelled PureGym and joined Levy Strength Co., a small gym in Levenshulme (£38 a month), where she does a Wednesday kettlebell class.", "2025-06-12", replaces="gym_pure", tags=["gym"]),
        # diet
        F("veg", "Diet", "The user is vegetarian and has been since childhood; she does not eat eggs.", "2024-10-03", mt="UserMemory", tags=["diet"]),
        F("eggs", "Diet", "On 2025-01-28 the user said she had started eating eggs to get more protein for marathon training; she still eats no meat or fish.", "2025-01-28", src="c06#0", replaces="veg", tags=["diet"]),
        F("protein", "Nutrition", "The user weighs about 58 kg and aims for roughly 80-100 g of protein a day.", "2025-01-28", src="c06#1", tags=["diet", "running"]),
        F("lactose", "Health", "The user is mildly lactose intolerant: milk upsets her but hard cheese is fine, and she uses oat milk.", "2024-11-06", src="c02#0", tags=["diet", "health"]),
        # friends
        F("sophie", "Friends", "The user's best friend Sophie Brennan is a primary school teacher in Leeds; they met at the University of Nottingham.", "2024-10-18", mt="UserMemory", tags=["friends"]),
        F("sophie_bday", "Birthday", "Sophie's birthday is 1 November.", "2024-10-18", tags=["friends", "birthday"]),
        # travel
        F("kerala", "Travel", "The user travelled to Kerala with her parents and Tom from 18 to 31 December 2024, visiting Kochi, Munnar and a houseboat in Alleppey.", "2024-12-02", src="c04#0", tags=["travel"]),
        F("lisbon", "Travel", "The user went to Lisbon with her friends Sophie and Jess from 16 to 19 May 2025 and stayed at the Casa Alfama guesthouse.", "2025-05-05", src="c11#3", tags=["travel", "hotel"]),
        F("lakes", "Travel", "The user and Tom spent a long weekend in Ambleside in the Lake District from 12 to 15 September 2025, staying at The Old Vicarage B&B.", "2025-09-16", src="c16#1", tags=["travel"]),
        F("xmas_leicester", "Travel", "The user spent Christmas 2025 at her parents' house in Leicester from 24 to 28 December, travelling by train.", "2025-12-22", tags=["travel", "family"]),
        F("cph_plan", "Travel plan", "The user and Tom are going to Copenhagen from 13 to 16 February 2026 during Tom's half term.", "2026-01-06", src="c23#0", tags=["travel", "copenhagen"]),
        F("cph_flight", "Flight", "Copenhagen flights: easyJet EZY2143 from Manchester at 07:05 on 13 February 2026, returning on EZY2144 on 16 February; booking reference K7XQ2PM.", "2026-01-06", src="c23#1", tags=["travel", "flight"]),
        F("cph_hotel", "Hotel", "For Copenhagen the user booked Hotel SP34 in the Latin Quarter for 3 nights at £612 and asked for a quiet room.", "2026-01-14", src="c24#3", tags=["travel", "hotel"]),
        # cats
        F("biscuit", "Pets", "The user has a ginger tabby cat called Biscuit, who is 6 years old.", "2024-10-05", mt="UserMemory", tags=["pets", "cat"]),
        F("pickle", "Pets", "On 2025-06-08 the user adopted a second cat from the RSPCA: a 12-week-old black kitten named Pickle.", "2025-06-08", src="c13#0", tags=["pets", "cat"]),
        F("vet", "Vet", "The cats' vet is Levenshulme Veterinary Centre, where they usually see Dr. Fiona Grant.", "2025-06-10", tags=["pets", "vet"]),
        F("pickle_spay", "Pet health", "Pickle was spayed at the vet on 2025-08-28.", "2025-08-28", tags=["pets", "vet"]),
        F("biscuit_thyroid", "Pet health", "In November 2025 Biscuit was diagnosed with hyperthyroidism (T4 of 78) and Dr. Grant prescribed Felimazole 2.5 mg twice daily.", "2025-11-06", src="c19#1", tags=["pets", "vet", "medication"]),
        F("cat_insurance", "Pet insurance", "The cats are insured with Petplan; Biscuit's premium went up to £31 a month after his thyroid diagnosis.", "2025-12-02", tags=["pets", "insurance"]),
        F("biscuit_recheck", "Pet health", "Biscuit's T4 recheck blood test is booked for 3 February 2026.", "2026-01-20", mt="WorkingMemory", tags=["pets", "vet"]),
        # health
        F("gp_didsbury", "Doctor", "The user's GP is Dr. Anita Patel at Didsbury Medical Centre.", "2024-10-25", tags=["health", "doctor"]),
        F("gp_levy", "Doctor", "After the move the user registered with Levenshulme Health Centre, where her GP is Dr. Chidi Okafor.", "2025-05-14", replaces="gp_didsbury", tags=["health", "doctor"]),
        F("migraine", "Health", "The user gets migraines with aura a few times a year and takes sumatriptan 50 mg when they start.", "2024-10-25", tags=["health", "medication"]),
        F("ferritin", "Health", "Blood tests on 2025-02-04 showed low ferritin (11 µg/L); the GP prescribed ferrous fumarate 210 mg daily for three months.", "2025-02-06", tags=["health", "medication"]),
        F("ferritin_ok", "Health", "On 2025-05-20 the user said her ferritin was back up to 38 and she had stopped the iron tablets.", "2025-05-20", tags=["health"]),
        F("dentist", "Dentist", "The user's dentist is Dr. Rebecca Moss at Burton Road Dental; her last check-up was on 2025-03-11.", "2025-03-11", tags=["health", "dentist"]),
        F("dentist_next", "Dentist", "The user has a dental check-up and hygienist appointment on 24 February 2026 at 9:40.", "2026-01-15", tags=["health", "dentist", "appointment"]),
        F("flu_jab", "Health", "The user had her flu jab at work on 2025-10-14.", "2025-10-14", tags=["health"]),
        F("glasses", "Health", "At an eye test at Specsavers Stockport on 2025-11-29 the user's prescription changed slightly and she ordered new tortoiseshell Ray-Ban glasses.", "2025-11-29", tags=["health"]),
        # money
        F("isa", "Savings", "The user pays £300 a month into a Vanguard stocks and shares ISA.", "2024-11-30", tags=["finance"]),
        F("wedding_fund", "Savings", "The user and Tom opened a joint Chase saver for the wedding, paying in £700 a month between them; they had £9,000 saved by October 2025.", "2025-10-05", src="c17#2", tags=["finance", "wedding"]),
        F("groceries", "Budget", "The user's grocery budget is £350 a month for the two of them.", "2025-05-03", tags=["finance"]),
        # hobbies
        F("bookclub", "Hobby", "The user is in a book club that meets on the first Thursday of the month at a café in Didsbury.", "2024-10-18", tags=["hobby", "books"]),
        F("pottery", "Hobby", "In October 2025 the user left her book club because of marathon training and wedding planning, and started a Saturday morning pottery class at Clay Corner in Levenshulme.", "2025-10-25", replaces="bookclub", tags=["hobby"]),
        F("bowl", "Hobby", "The user made her first thrown bowl in pottery class on 2025-11-08 and gave it to her mum.", "2025-11-08", tags=["hobby"]),
        # phone
        F("phone_old", "Phone", "The user has an iPhone 12.", "2024-11-20", tags=["phone"]),
        F("phone_new", "Phone", "On 2025-10-03 the user upgraded to an iPhone 17 on a Vodafone contract at £38 a month.", "2025-10-03", replaces="phone_old", tags=["phone"]),
    ]

    # compact logs, expanded into facts with varied wording
    runs = [
        ("2024-11-24", "ran 10 km in 58:12 around Chorlton Water Park", "On {d} the user {t}."),
        ("2024-12-15", "did a 14 km long run along the Mersey and felt strong", "The user {t} on {d}."),
        ("2025-01-12", "cut a planned 16 km long run to 9 km because of shin pain", "On {d} the user {t}."),
        ("2025-02-09", "ran 20 km in 2:08, her first run over 20 km", "The user said she {t} on {d}."),
        ("2025-03-02", "completed her longest training run, 32 km in 3:31", "On {d} the user {t}."),
        ("2025-06-14", "did a 5 km recovery jog after a month off", "The user {t} ({d})."),
        ("2025-07-20", "ran 12 km with Marcus in heavy rain", "On {d} the user {t}."),
        ("2025-08-17", "did a 24 km long run and ran out of water at 18 km", "The user {t} on {d}."),
        ("2025-09-20", "ran 28 km at an average of 5:50/km", "On {d} the user {t}."),
        ("2025-12-21", "did an 8 km tempo run in the first week of her Runna plan", "The user {t} on {d}."),
        ("2025-12-28", "ran 16 km around Leicester while staying at her parents'", "On {d} the user {t}."),
        ("2026-01-04", "did 6 x 800 m intervals at 4:45/km", "The user {t} on {d}."),
        ("2026-01-11", "ran 18 km and said her knee held up", "On {d} the user {t}."),
        ("2026-01-18", "ran 20 km in 2:02 with Marcus", "The user {t} on {d}."),
        ("2026-01-21", "ran an easy 6 km but her knee was sore afterwards", "On {d} the user {t}."),
        ("2026-01-24", "ran Platt Fields parkrun in 24:40", "The user {t} on {d}."),
        ("2026-01-25", "ran 22 km, taking a Maurten gel every 40 minutes with no stomach problems", "On {d} the user {t}."),
    ]
    for i, (d, t, tmpl) in enumerate(runs):
        src = "c09#2" if d == "2025-03-02" else "c26#0" if d == "2026-01-25" else None
        facts.append(F(f"run{i:02d}", "Running log", tmpl.format(d=d, t=t), d, src=src, tags=["running", "training"]))

    jobs = [
        ("2025-05-10", "reno_kitchen", "The user and Tom painted the kitchen in Farrow & Ball 'Card Room Green' on 2025-05-10."),
        ("2025-07-05", "reno_fence", "New fence panels went up in the back garden on 2025-07-05; Tom's dad helped and it cost about £480 in materials."),
        ("2025-08-23", "reno_loft", "The user had the loft insulation topped up to 270 mm on 2025-08-23 for £640."),
        ("2025-09-02", "reno_alarms", "Interlinked smoke alarms were fitted throughout the house on 2025-09-02 for £210."),
        ("2025-10-12", "reno_window", "The front bedroom sash window was replaced by Levenshulme Joinery on 2025-10-12 for £1,100."),
    ]
    for d, key, text in jobs:
        facts.append(F(key, "Renovation", text, d, tags=["house", "renovation"]))

    meals = [
        ("2024-11-17", "The user batch-cooked a big pot of chana masala for the week."),
        ("2025-02-23", "The user made her mum's sambar recipe and Tom loved it."),
        ("2025-05-11", "The user's first dinner in the new house was a paneer tikka traybake."),
        ("2025-08-03", "The user made grilled halloumi and peach salad for a barbecue with friends."),
        ("2025-10-19", "The user cooked a butternut squash and sage risotto with oat cream."),
        ("2025-12-07", "The user tested a mushroom and chestnut wellington as a trial run for Christmas dinner."),
        ("2026-01-18", "The user batch-cooked lentil and spinach dal with brown rice for the week."),
    ]
    for i, (d, text) in enumerate(meals):
        facts.append(F(f"meal{i}", "Cooking", text, d, tags=["food", "cooking"]))

    eats = [
        ("2025-02-14", "Valentine's dinner: the user and Tom ate at Olive & Ash in Ancoats and loved the tasting menu."),
        ("2025-06-21", "The user said Dosa Hut on Stockport Road in Levenshulme does the best masala dosa she has had outside Kerala."),
        ("2025-11-01", "For Sophie's birthday the user ate at a steakhouse in Leeds and complained there was only one vegetarian main."),
        ("2026-01-10", "The user tried Yuzu Ramen Bar on Oldham Street and liked the miso vegetable ramen."),
    ]
    for i, (d, text) in enumerate(eats):
        facts.append(F(f"eat{i}", "Restaurant", text, d, tags=["food", "restaurant"]))

    books = [
        ("2024-10-18", "'Tomorrow, and Tomorrow, and Tomorrow' by Gabrielle Zevin was the user's book club pick for October 2024."),
        ("2024-12-05", "The user finished 'The Covenant of Water' by Abraham Verghese and loved it."),
        ("2025-02-06", "The user found 'Demon Copperhead' hard going for book club."),
        ("2025-04-18", "The user read 'Born to Run' by Christopher McDougall before her first marathon."),
        ("2025-08-11", "The user said 'James' by Percival Everett was her favourite book of the year."),
        ("2025-12-30", "Over Christmas the user started reading Sally Rooney's 'Intermezzo'."),
    ]
    for i, (d, text) in enumerate(books):
        facts.append(F(f"book{i}", "Reading", text, d, tags=["books"]))

    prefs = [
        _pref("p_aisle", "The user always wants an aisle seat on flights because she gets up a lot.", "2024-12-02", src="c04#2"),
        _pref("p_oat", "The user drinks oat-milk flat whites.", "2024-11-20", reasoning="Ordered oat flat whites in several coffee conversations and switched from lattes after lactose problems."),
        _pref("p_spicy", "Deepa likes her food properly spicy, the hotter the better.", "2025-02-23"),
        _pref("p_guesthouse", "The user prefers small independent guesthouses and B&Bs over big chain hotels.", "2025-09-16", reasoning="Picked Casa Alfama in Lisbon, The Old Vicarage B&B in Ambleside and a boutique hotel in Copenhagen over chains."),
        _pref("p_quiet", "The user is a light sleeper and wants quiet rooms away from streets and lifts.", "2026-01-14", reasoning="Rejected a noisy apartment in Lisbon and requested a room away from the lift in Copenhagen.", src="c24#2"),
        _pref("p_km", "Give distances in kilometres and paces in minutes per km.", "2024-10-20"),
        _pref("p_mornings", "The user prefers to do her runs early in the morning before work.", "2025-09-20", reasoning="Most logged runs and long runs are finished before 9am."),
        _pref("p_short", "Deepa wants short answers with bullet points, not long explanations.", "2025-03-02"),
        _pref("p_uk", "Use British spelling and pounds sterling.", "2024-10-03"),
        _pref("p_train", "For trips within the UK the user prefers the train to driving.", "2025-10-08", reasoning="Went to Newcastle and Chester by train for races even after buying the car."),
        _pref("p_experiences", "The user prefers to give experiences rather than physical presents.", "2025-03-01", reasoning="Chose a walking weekend for Tom's birthday over a framed map because he hates clutter."),
        _pref("p_after5", "Appointments should be after 5pm or on a Saturday so they don't clash with work.", "2025-07-09"),
        _pref("p_low_alcohol", "The user hardly drinks and likes good alcohol-free options.", "2026-01-19", reasoning="Asked for alcohol-free beers at a barbecue and ruled out a boozy hen do."),
        _pref("p_midrange", "The user is price-conscious and usually goes for the mid-priced option.", "2026-01-14", reasoning="Turned down Memmo Alfama as too expensive and set budgets for hotels, gifts and the wedding."),
    ]

    N = "2026-01-27T19:00"
    queries = [
        # current
        _q("current", N, "where do I live now?", ["res_house"], stale=["res_flat"]),
        _q("current", "2026-01-28T08:10", "what's my job these days", ["job_heaton"], stale=["job_mri"]),
        _q("current", N, "which GP surgery am I registered with at the moment?", ["gp_levy"], stale=["gp_didsbury"]),
        _q("current", N, "what car have I got", ["car_niro"], stale=["car_jazz"]),
        _q("current", "2026-01-29T12:00", "which gym am I paying for currently", ["gym_levy"], stale=["gym_pure"]),
        _q("current", N, "what's my phone contract now? need to check my monthly costs", ["phone_new"], stale=["phone_old"]),
        _q("current", "2026-01-30T07:30", "remind me what hours I'm working now", ["new_hours"], stale=["mri_rota"]),
        # history
        _q("history", N, "where were we living before we bought the house?", ["res_flat", "res_house"]),
        _q("history", N, "which watch did I use before Tom got me the new one", ["watch_255", "watch_965"]),
        _q("history", N, "how did I get to work back when I was at the MRI", ["commute_bike", "job_mri"]),
        _q("history", N, "who was my manager at the infirmary again", ["manager_mri"]),
        _q("history", N, "what did I eat before I started having eggs", ["veg", "eggs", "c02#2"]),
        # time_window
        _q("time_window", "2026-01-27T19:00", "how far did I run last weekend?", ["run15", "run16"]),
        _q("time_window", N, "what work did we have done on the house last October?", ["reno_window"]),
        _q("time_window", N, "how much did the house stuff cost us last summer", ["boiler", "reno_fence", "reno_loft"]),
        _q("time_window", "2026-01-20T18:00", "two months ago I had that knee thing, what exercises did the physio give me?", ["itband", "c21#0", "c21#2"]),
        _q("time_window", N, "what did the vet say about the cats in November", ["biscuit_thyroid", "c19#0", "c19#2", "c19#3"]),
        _q("time_window", N, "where did I eat out earlier this month?", ["eat3"]),
        _q("time_window", "2026-01-19T09:00", "what runs did I do in the first two weeks of january", ["run11", "run12"]),
        # paraphrase
        _q("paraphrase", N, "who actually signs off my pay these days?", ["boss_new", "job_heaton"]),
        _q("paraphrase", N, "is my grumpy old ginger boy on any tablets?", ["biscuit_thyroid", "biscuit", "c19#2", "c13#1"]),
        _q("paraphrase", N, "what do we hand over to the lender for our place", ["mortgage"]),
        _q("paraphrase", N, "what should I take when the zigzag lights start in my eyes", ["migraine"]),
        _q("paraphrase", N, "when exactly are we tying the knot?", ["wedding_date"]),
        _q("paraphrase", N, "which two women did I pick to stand beside me on the big day?", ["bridesmaids"]),
        # lexical
        _q("lexical", "2026-02-10T21:00", "what's the booking ref for the copenhagen flights", ["cph_flight"]),
        _q("lexical", N, "how much is Ellie Marsh charging us?", ["photographer"]),
        _q("lexical", N, "what did Gary quote for the bathroom", ["bath_quote"]),
        _q("lexical", N, "SP34 how much was it again", ["cph_hotel", "c24#0"]),
        _q("lexical", N, "what's the Felimazole dose", ["biscuit_thyroid"]),
        # multi
        _q("multi", N, "what pets do I have and how old are they", ["biscuit", "pickle"]),
        _q("multi", N, "list every full marathon I've finished with my times", ["mara1_result", "chester", "c18#0"]),
        _q("multi", N, "add up what we've spent doing up the house so far", ["boiler", "reno_fence", "reno_loft", "reno_alarms", "reno_window", "damp", "reno_kitchen"]),
        _q("multi", N, "which trips abroad have I done or booked since I started using you?", ["kerala", "lisbon", "cph_plan", "cph_flight", "cph_hotel"]),
        _q("multi", N, "who's in my family? doing a seating plan", ["hometown", "sister", "nephew", "tom", "engaged", "dad65"]),
        _q("multi", N, "what meds are me and the cats on right now", ["migraine", "biscuit_thyroid", "ferritin_ok"]),
        # conversation (twins: two hotel searches, two gift plans, two training plans)
        _q("conversation", "2026-01-14T19:40", "ok so which one did we end up going for?", ["c24#2", "c24#3", "cph_hotel"], conv="c24"),
        _q("conversation", "2025-05-05T21:40", "remind me why we ruled out the apartment", ["c11#1", "c11#2"], conv="c11"),
        _q("conversation", "2025-11-10T21:30", "so what did we settle on in the end?", ["c20#3", "dad_gift"], conv="c20"),
        _q("conversation", "2025-02-10T20:45", "wait what was the idea with the old map again", ["c08#1", "c08#0", "tom_gift"], conv="c08"),
        _q("conversation", "2025-12-14T10:50", "how many days a week is this one?", ["plan_2026", "c22#0"], conv="c22"),
        # preference
        _q("preference", "2025-11-20T20:00", "how should I get to mum and dad's for the party on the 30th?", ["hometown", "dad65", "c20#0"], prefs=["p_train"]),
        _q("preference", N, "find me somewhere to stay in York for a weekend in March", prefs=["p_guesthouse", "p_quiet", "p_midrange"]),
        _q("preference", N, "suggest a dinner I can throw together tonight after my run", ["eggs", "lactose"], prefs=["p_spicy"]),
        _q("preference", N, "I need a haircut next week, what times should I look for?", ["new_hours"], prefs=["p_after5"]),
        _q("preference", N, "explain how the yearly allowance on my ISA works", ["isa"], prefs=["p_short", "p_uk"]),
        _q("preference", "2025-10-25T10:00", "ideas for Sophie's birthday next week?", ["sophie", "sophie_bday"], prefs=["p_experiences"]),
        _q("preference", N, "what pace should my easy runs be for this block", ["mara3_goal", "plan_2026"], prefs=["p_km"]),
        _q("preference", N, "Tom's staff party is on Friday, what should I order at the bar", prefs=["p_low_alcohol"]),
        # offtopic (hard ones share a word or topic with the store)
        _q("offtopic", N, "why is a marathon 26.2 miles?"),
        _q("offtopic", N, "what's the population of Copenhagen?"),
        _q("offtopic", N, "how do cats actually purr"),
        _q("offtopic", N, "explain how thyroid hormone works in people"),
        _q("offtopic", N, "what was Percival Everett's first novel?"),
        _q("offtopic", N, "what's the difference between a mortgage broker and going direct to a bank"),
        _q("offtopic", N, "how long do I boil an egg for a runny yolk"),
        _q("offtopic", N, "write a python function that checks if a string is a palindrome"),
        _q("offtopic", N, "what's 17% of 2340"),
        _q("offtopic", N, "when did Manchester United last win the league"),
        _q("offtopic", N, "tell me a fun fact about octopuses"),
    ]
    return {
        "user_id": "ms_en_09",
        "lang": "en",
        "split": "fit",
        "persona": "Deepa Raman, 34, Manchester pharmacist who buys a house, changes jobs, trains for marathons and gets engaged; two cats.",
        "conversations": convs,
        "facts": facts,
        "preferences": prefs,
        "queries": queries,
    }


USERS = [_u09()]
