"""Write the bundled offline sample feeds (tracker/sample_feeds/) from the stories below.

Every story here is fictional and was written for Narrative Tracker: the outlets
(Meridian Wire, Harbourside Times, BlockFrame, Circuit Ledger, Rhine Ledger) do
not exist, and events, figures and quotes are invented, even where real firms,
regulators or people are named so entity tagging has realistic work. Nothing
is copied from a real article.

Run ``.venv/bin/python scripts/make_sample_feeds.py`` after editing the stories;
commit the regenerated XML. The output is deterministic.

Story format: ``@ YYYY-MM-DD`` starts a day; an item is a header line
``code HH:MM[zone] label[,flag...] | author | title`` followed by indented
description lines (an HTML fragment: bare ``&`` is escaped for you). ``label``
is the narrative the item was written for (ai, crypto, fed, rot, none; ``+``
joins two); it goes to intended_labels.csv, never into the feeds. Flags:
``nodate`` (no pubDate), ``republish`` (the same story again under a new guid),
``wire`` (a Meridian Wire story carried by another outlet with the same title).
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path
from xml.sax.saxutils import escape

OUT = Path(__file__).resolve().parent.parent / "tracker" / "sample_feeds"


@dataclass(frozen=True)
class Outlet:
    """One fictional outlet and how its feed is serialised."""

    code: str
    name: str
    file: str
    title: str
    site: str
    tz: timezone
    description: str


OUTLETS = {
    o.code: o
    for o in [
        Outlet("mw", "markets_wire", "markets_wire.xml", "Meridian Wire - Markets & Business",
               "https://meridianwire.example", timezone(timedelta(hours=-5)),
               "Breaking markets, economy and company news from the Meridian Wire desk."),
        Outlet("ht", "harbourside_times", "harbourside_times.xml",
               "The Harbourside Times: Business & Local", "https://harboursidetimes.example",
               UTC, "Business, city and sports news from Harbourside."),
        Outlet("bf", "blockframe", "blockframe.atom.xml", "BlockFrame", "https://blockframe.example",
               UTC, "Digital-asset markets, policy and technology."),
        Outlet("cl", "circuit_ledger", "circuit_ledger.xml", "Circuit Ledger",
               "https://circuitledger.example", timezone(timedelta(hours=-8)),
               "Technology, AI and the business of computing."),
        Outlet("rl", "rhine_ledger", "rhine_ledger.xml", "Rhine Ledger (English edition)",
               "https://rhineledger.example", timezone(timedelta(hours=1)),
               "European business, markets and regional news in English."),
    ]
}

STORIES = """
@ 2026-11-02
mw 06:45 fed | Elena Marsh | Repo rates jump as month-end squeeze tests Fed's liquidity backstop
  NEW YORK (Meridian Wire) - Overnight repo rates rose as much as 12 basis points above the top of the Fed's
  target range on Friday's month-end, and banks tapped the standing repo facility for $22 billion, the most
  since June.
  Dealers said the Fed's $35 billion a month in Treasury bill purchases has yet to rebuild
  reserves to a level the central bank calls "ample".
mw 09:30 none | Jordan Alvarez | Stocks edge higher ahead of midterm vote; chipmakers lead
  The S&P 500 rose 0.4% and the Nasdaq 100 gained 0.7% in morning trade as investors looked past
  Tuesday's midterm elections toward Friday's jobs report. Energy shares lagged as crude slipped.
mw 11:10 ai | Wei Chen | Hyperscalers' capex plans top $600 billion for 2027 after earnings season
  A Meridian Wire tally of guidance from Microsoft, Alphabet, Amazon and Meta puts combined
  capital spending at about $480 billion this year and above $600 billion in 2027, most of it for
  AI data centers.
  Analysts say the question for 2027 is when the spending shows up in revenue and productivity,
  not whether it continues.
mw 15:20 none | Samuel Okafor | Oil slips as OPEC+ signals pause in output increases
  Brent crude fell 1.1% to $64.30 a barrel after delegates said the producer group would hold
  output steady through the first quarter. U.S. crude inventories rose for a third week.
ht 13:05 none | Marisol Grant | Harbourside port volumes hit record ahead of holiday season
  Container volumes at the Port of Harbourside rose 6.2% in October from a year earlier, the
  busiest month on record, as retailers pulled holiday orders forward.
ht 15:40 crypto | Daniel Okoro | Cathie Wood says institutions are 'just getting started' with bitcoin
  In a monthly letter, Ark Invest chief executive Cathie Wood said pension funds and insurers had
  barely begun to allocate to bitcoin, and that regulated products such as spot ETFs had made the
  asset "a normal line item" for institutions.
ht 19:15 none | Staff | Mariners beat Rivertown 3-1 to stay in playoff race
  Two goals in the final 15 minutes lifted the Harbourside Mariners past Rivertown FC at Pier
  Stadium, keeping the club two points clear of ninth place with one home game left.
bf 08:00Z crypto | Lena Hartmann | Bitcoin starts November near $91,800 as ETF outflows ease
  Spot bitcoin ETFs saw net outflows of $180 million on Friday, the smallest in a week, while
  BlackRock's iShares Bitcoin Trust took in $60 million. Bitcoin traded near $91,800 in Asian
  hours.
bf 11:30+01:00 crypto | Tomasz Wrobel | EU MiCA licence count passes 60 as exchanges race to passport services
  More than 60 crypto-asset service providers now hold a licence under the EU's Markets in
  Crypto-Assets rules, according to a BlockFrame count of national registers, with Germany, the
  Netherlands and Ireland issuing the most.
bf 16:45-05:00 none | Marcus Bell | Memecoin frenzy cools as Solana exchange volumes drop 30% in October
  Decentralised exchange volumes on Solana fell 30% last month as new memecoin launches dried up,
  on-chain data show. Fees paid to validators fell to a five-month low.
cl 07:00 ai | Hannah Price | OpenAI signs $12 billion compute deal with Corvid Cloud
  OpenAI agreed to buy $12 billion of GPU capacity from Corvid Cloud over five years, the latest
  in a string of multi-year compute contracts that have pushed AI infrastructure commitments well
  past $1 trillion.
cl 10:15 none | Jae-won Park | Smartphone shipments rise 3% in third quarter as foldables gain
  Global smartphone shipments grew 3% year on year in the July-September quarter, with foldable
  models accounting for a record 2.4% of units, according to tracker Unitrend.
cl 14:30 ai | Omar Haddad | Developers say AI coding tools save 10-15% of their week, but review time climbs
  A survey of 2,300 professional developers found most save between 10% and 15% of their working
  hours with AI assistants, but almost half said time spent reviewing generated code had risen.
rl 08:20 none | Katrin Vogel | Euro-zone factory PMI edges up to 49.8 as Germany stabilises
  Manufacturing activity in the euro area contracted at the slowest pace in eight months in
  October, the final purchasing managers' index showed, with German output steadying after a weak
  summer.
rl 11:45 none | Jonas Keller | Storm Bettina brings gales to North Sea coast; ferries cancelled
  Gusts of up to 120 km/h hit the German and Dutch coasts overnight. Ferry services to the East
  Frisian islands were cancelled and Deutsche Bahn suspended some regional trains.
rl 16:00 fed | Anna Lindqvist | ECB chief economist says December cut is 'on the table' as inflation undershoots
  The European Central Bank's chief economist said a further reduction in the deposit rate from
  2.00% could not be ruled out in December if inflation keeps running below the 2% target next
  year.

@ 2026-11-03
mw 07:30 none | Grace Holloway | Americans vote in midterm elections with control of Congress at stake
  Polls opened across the United States on Tuesday in midterm elections that will decide control
  of the House and a third of the Senate. Officials in several states warned counting could take
  days.
mw 09:50 fed | Elena Marsh | Treasury yields dip as traders add to bets on December Fed cut
  The two-year Treasury yield fell 4 basis points to 3.38%. Fed funds futures now price a 65%
  chance the Federal Reserve lowers its target range from 3.25%-3.50% at its December 8-9 meeting.
mw 12:20 crypto | Priya Raman | Morgan Stanley opens crypto trading to all E*Trade clients
  Morgan Stanley said all E*Trade customers can now buy and sell bitcoin, ether and solana in
  their brokerage accounts, completing a rollout that began with a pilot in the spring.
mw 16:40 none | Samuel Okafor | Pinecrest Home cuts outlook as big-ticket renovations slow
  The home-improvement chain now expects full-year comparable sales to fall 1-2%, from flat
  previously, citing weak demand for kitchen and flooring projects. Shares fell 6% after hours.
ht 12:30 none | Staff | Polls open across Harbour County; officials expect turnout near 2022 levels
  County election officials said early voting ran slightly ahead of four years ago and that the
  first results would be posted after 8 p.m.
ht 14:10 crypto | Nadia Brooks | JPMorgan extends its deposit token to corporate clients in Europe
  JPMorgan said corporate treasurers in Europe can now settle payments with its blockchain-based
  deposit token around the clock, a step toward what the bank calls "regulated money on public
  rails".
ht 18:55 none | Ruth Feldman | Mortgage applications climb as rates hover near 6.1%
  Applications for home purchase loans rose 4% last week, the Mortgage Bankers Association said,
  as the average 30-year rate held near 6.1%.
bf 07:15Z crypto | Lena Hartmann | USDC supply reaches $86 billion as payment firms expand stablecoin settlement
  Circulation of Circle's USDC rose to a record $86 billion, helped by card networks and payroll
  firms settling with merchants in the stablecoin, while Tether's USDT stands near $190 billion.
bf 13:00-05:00 crypto | Marcus Bell | SEC staff clears path for broker-dealers to custody crypto for clients
  New staff guidance from the Securities and Exchange Commission says broker-dealers may hold
  crypto assets for customers if they meet capital and segregation rules, removing a hurdle for
  large banks.
bf 21:40+08:00 none | Wei Ling Tan | Asian crypto exchange outage halts trading for two hours
  Singapore-based exchange Lotus Markets suspended trading for two hours after a database failure.
  The company said no customer funds were affected.
cl 06:30 ai | Hannah Price | Alphabet shows Gemini agents booking travel end to end; analysts ask about cost
  Alphabet demonstrated agents that plan, book and expense business trips without human steps.
  Analysts on a briefing call pressed executives on the compute cost per completed task.
cl 11:00 none | Jae-won Park | Game studio Lantern Forge lays off 120 after sequel delay
  The Montreal-based developer cut about a fifth of its staff after pushing its flagship sequel to
  2028.
cl 15:45 ai | Omar Haddad | Nvidia climbs 2% as Microsoft confirms new GPU orders for 2027
  Microsoft said it had placed orders for additional Nvidia systems for delivery next year,
  another sign that AI capital spending is still rising.
rl 09:00 none | Katrin Vogel | German exports fall 1.2% in September on weaker US demand
  Exports to the United States dropped 4%, the statistics office said, while shipments to other EU
  countries rose slightly.
rl 12:30 crypto | Felix Brandt | Savings banks start bitcoin trading for retail customers in pilot regions
  Germany's savings banks began offering bitcoin and ether trading through their banking apps in
  three pilot regions, with custody handled by a licensed partner under MiCA.
rl 17:10 none | Jonas Keller | FC Rheinau sack coach after fifth straight defeat
  The second-division club dismissed its head coach after a 0-3 home loss on Sunday left it 16th
  in the table.

@ 2026-11-04
mw 06:15 none | Grace Holloway | Midterm results trickle in as several House races remain too close to call
  Counting continued on Wednesday in tight House contests across five states, and networks said
  control of the chamber might not be known for days.
mw 08:45 fed | Elena Marsh | Treasury keeps coupon auction sizes steady, leans on bills
  The Treasury left note and bond auction sizes unchanged in its quarterly refunding and said
  bills would keep funding most of the deficit, a mix dealers said suits the Fed's ongoing bill
  purchases.
mw 11:30 ai | Wei Chen | AMD revenue jumps 31% on data-center GPU demand; forecast tops estimates
  AMD reported third-quarter revenue of $10.1 billion, up 31%, and guided fourth-quarter sales
  above Wall Street forecasts on orders for its AI accelerators.
mw 14:05 none | Jordan Alvarez | Stocks rise as investors bet on gridlock in Washington
  Stocks gained for a second day, with the S&P 500 up 0.6%, as investors judged that a divided
  Congress would make big tax or spending changes unlikely.
ht 11:20 crypto | Daniel Okoro | Fidelity lets workplace retirement savers put up to 5% in a bitcoin fund
  Fidelity said employers using its 401(k) platform can offer a bitcoin fund as an option, capped
  at 5% of an account balance, after a year-long pilot with 40 companies.
ht 15:00 none | Marisol Grant | Harbourside mayor wins second term; council tilts toward pro-housing slate
  Mayor Teresa Alvarado won re-election with 58% of the vote, and three candidates backing faster
  permits for apartments won council seats.
ht 20:30 none | Staff | First frost advisory of the season for inland valleys
  Forecasters expect temperatures near freezing before dawn on Thursday in the valleys east of the
  city.
bf 09:20+01:00 crypto | Tomasz Wrobel | Deutsche Börse's crypto unit adds euro stablecoin settlement
  Deutsche Börse's digital-asset subsidiary will let institutional clients settle trades in a
  MiCA-compliant euro stablecoin, cutting settlement from two days to minutes.
bf 14:00-05:00 none | Marcus Bell | Bitcoin dips to $89,900 as risk appetite fades after midterms
  Bitcoin fell 2% to $89,900 and ether lost 3%, with traders citing thin liquidity rather than any
  single catalyst.
bf 19:30Z none | Lena Hartmann | DeFi lender loses $14 million in oracle exploit
  An attacker manipulated a price feed on lending protocol Harbor Finance to borrow $14 million
  against inflated collateral. The team paused markets and offered a bounty.
cl 08:10 ai | Omar Haddad | Enterprise AI pilots stall: only a third reach production, survey finds
  Of 900 large companies surveyed, only 34% have moved generative AI projects from pilot to
  production, and fewer than one in five report measurable productivity gains so far.
cl 12:40 ai | Hannah Price | Meta's data-center bill: company says 2027 spending will be 'notably larger'
  Meta told investors its capital expenditure next year would be notably larger than 2026's $72
  billion as it builds clusters for its next models.
cl 15:20 none | Jae-won Park | Streaming price rises slow subscriber growth at Vista+
  Vista+ added 1.1 million subscribers in the quarter, half of analysts' forecast, after raising
  prices for its ad-free tier.
rl 08:30 none | Katrin Vogel | Euro-zone services growth holds up in October, final PMI shows
  The services PMI was confirmed at 51.6, with Spain and Italy offsetting softer activity in France.
rl 13:15 fed | Anna Lindqvist | Bank of England expected to cut rates on Thursday in close vote
  Economists polled by Rhine Ledger expect the Bank of England to lower Bank Rate to 3.25% from
  3.50%, though several see a 5-4 split on the Monetary Policy Committee.
rl 18:00 none | Jonas Keller | Dutch port strike enters second day, delaying car shipments
  Dockworkers at two Rotterdam terminals extended a strike over automation, and carmakers said
  vehicle exports would be delayed by up to a week.

@ 2026-11-05
mw 07:00 fed | Priya Raman | Bank of England cuts rates to 3.25% in 5-4 vote
  LONDON (Meridian Wire) - The Bank of England lowered Bank Rate by a quarter point to 3.25%, its fourth cut
  this year, and said further easing would be "gradual".
mw 08:35 ai | Wei Chen | US productivity jumps 2.9% in third quarter, reviving AI optimism
  Nonfarm productivity rose at a 2.9% annual rate, the Labor Department said, and unit labor costs
  rose only 0.8%. Some economists credited early business use of AI; others pointed to slower
  hiring.
mw 12:00 none | Samuel Okafor | Mid-Atlantic Air raises holiday fares as Thanksgiving bookings hit record
  The carrier said bookings for Thanksgiving week were 7% above last year and that it would add 40
  daily flights.
mw 15:50 fed | Elena Marsh | Fed's Treasury bill purchases pass $175 billion, easing funding strains
  The Federal Reserve's reserve-management purchases of Treasury bills have reached about $175
  billion since June, and money-market strategists say repo pressure should fade by year-end.
ht 12:10 crypto | Nadia Brooks | Citi launches crypto custody for asset managers, starting with bitcoin and ether
  Citi said it will hold bitcoin and ether for institutional clients in segregated accounts,
  joining a small group of global custodian banks offering the service.
ht 16:30 none | Ruth Feldman | Harbourside home prices fall for third month as listings pile up
  The median sale price slipped 0.8% in October to $742,000, while active listings were up 19%
  from a year earlier.
ht 21:00 none | Staff | Mariners sign veteran goalkeeper on short-term deal
  The club signed 34-year-old goalkeeper Tomas Rydell through the end of the playoffs after an
  injury to its starter.
bf 06:40Z crypto | Lena Hartmann | Bank of England finalises holding limits for systemic stablecoins
  The Bank of England set a temporary holding limit of GBP 20,000 per person for systemic sterling
  stablecoins and said issuers may keep up to 60% of reserves in short-term government debt.
bf 12:25-05:00 crypto | Marcus Bell | CME crypto futures volumes hit record in October, led by Solana and XRP contracts
  Average daily volume in CME's cryptocurrency futures and options rose to a record 410,000
  contracts, with institutional participation in Solana futures doubling since August.
bf 18:10+08:00 crypto | Wei Ling Tan | Singapore regulator fines crypto payments firm for compliance lapses
  The Monetary Authority of Singapore fined PayLantern SGD 1.2 million for weaknesses in customer
  checks and ordered an independent review of its anti-money-laundering controls.
cl 07:45 ai | Omar Haddad | Chip stocks rally after productivity data; TSMC shares up 3%
  Semiconductor shares led the market higher after the productivity report, with investors
  treating it as early evidence that AI spending is paying off.
cl 11:20 none | Jae-won Park | Cloud outage knocks payment apps offline for 90 minutes
  A networking fault at a major cloud provider's Virginia region disrupted several payment and
  food-delivery apps during the morning.
cl 14:10 ai | Hannah Price | AI agents now handle 40% of support tickets at startups, but refunds rise
  A study of 60 software startups found AI agents resolved 40% of support tickets without staff,
  though refunds rose at a third of them after customers got wrong answers.
rl 09:45 none | Katrin Vogel | German industrial orders rise 1.1% on large-scale contracts
  Factory orders increased more than expected in September, driven by aircraft and defence
  contracts. Excluding big-ticket items, orders fell 0.4%.
rl 14:20 fed | Anna Lindqvist | Bank of England cuts Bank Rate to 3.25%, signals gradual path
  Four of nine policymakers voted to hold. Sterling fell 0.5% against the euro as traders brought
  forward bets on another cut in February.
rl 19:30 none | Jonas Keller | Heavy rain prompts flood warnings along the Moselle
  Authorities in Trier and Koblenz issued warnings as the river was expected to crest above 7
  metres on Friday.

@ 2026-11-06
mw 08:35 fed | Jordan Alvarez | US payrolls rise 64,000 in October; jobless rate climbs to 4.7%
  WASHINGTON (Meridian Wire) - Employers added 64,000 jobs last month, fewer than the 95,000
  economists expected, and the unemployment rate rose to 4.7% from 4.6%. Average hourly earnings
  rose 0.3%.
mw 10:15 fed | Elena Marsh | Traders lift odds of December Fed cut to 72% after weak jobs data
  Fed funds futures now imply a 72% chance of a quarter-point cut in December, up from 65% earlier
  in the week. The two-year yield fell 7 basis points.
mw 14:30 ai | Wei Chen | Fed report flags AI-linked stock valuations as a financial stability risk
  The Federal Reserve's semiannual Financial Stability Report said valuations of companies tied to
  artificial intelligence are "elevated relative to fundamentals" and that a sharp repricing could
  spill over to credit markets.
mw 17:00 none | Samuel Okafor | Brightmart shares slide on report of supplier payment disputes
  Shares of the discount retailer fell 5% after a trade publication reported that several apparel
  suppliers had paused shipments over late payments. Brightmart said relationships were "strong".
ht 13:45 fed | Daniel Okoro | Jobs report: hiring slows sharply, strengthening case for a December cut
  The weakest hiring since the spring makes a third straight Fed rate cut more likely, economists
  said, and mortgage rates could follow.
ht 17:20 none | Marisol Grant | Weekend ferry service cut as crews strike over pay
  Harbourside Ferries will run a reduced weekend schedule after deckhands walked out over a
  stalled contract.
ht 22:05 none | Staff | Bayview High clinches league title with late field goal
  A 38-yard kick with four seconds left gave Bayview a 24-21 win over Crestwood and its first
  league title since 2019.
bf 08:00-05:00 none | Marcus Bell | Bitcoin slides to $88,600, lowest in a month, despite rate-cut bets
  Bitcoin fell to $88,600 after the jobs report, with analysts saying the risk-off mood in growth
  stocks outweighed hopes for lower rates.
bf 13:30Z crypto | Lena Hartmann | Spot bitcoin ETFs post $640 million weekly outflow
  US spot bitcoin funds lost $640 million this week, their second weekly outflow in a row, though
  BlackRock's fund still holds about 790,000 bitcoin.
bf 17:45+01:00 crypto | Tomasz Wrobel | Nordlys Exchange wins MiCA licence in Sweden
  Stockholm-based Nordlys Exchange received authorisation from Sweden's financial regulator,
  allowing it to serve customers across the EU from January.
cl 06:50 ai | Hannah Price | Fed warns on AI valuations; analysts say earnings still back the boom
  The Fed's stability report singled out AI valuations, but chip analysts noted that earnings at
  the largest AI suppliers have grown faster than their share prices this year.
cl 10:30 none | Jae-won Park | Ride-hailing firm Kiteway posts first annual profit
  Kiteway said it expects a full-year operating profit for the first time, helped by higher fares
  and a cheaper insurance contract.
cl 14:00 ai | Omar Haddad | Regional bank replaces 300 call-center roles with AI assistant
  Ohio-based Summit Valley Bank said an AI voice assistant now handles most balance and card
  inquiries, and that it moved 300 staff to lending and fraud teams rather than cutting jobs.
rl 08:10 none | Katrin Vogel | German industrial output rises 0.8% in September
  Production rose for the first time in three months, led by carmakers and pharmaceuticals.
rl 15:20 fed | Anna Lindqvist | Euro slips after US jobs data as traders weigh Fed and ECB paths
  The euro fell 0.3% to $1.152 as markets priced a higher chance of a Fed cut in December
  alongside an ECB move the following week.
rl 17:40 none | Jonas Keller | Storm Bettina damage to cost insurers €300 million, industry group estimates
  The German insurance association put insured losses from last weekend's storm at around €300
  million, mostly from roof damage and fallen trees.

@ 2026-11-07
mw 09:00 fed | Grace Holloway | Analysis: Fed path, not Washington, drives bond market after midterms
  With Congress likely divided, bond investors are focused on the Federal Reserve's December
  meeting and on how fast the Fed's bill purchases rebuild bank reserves.
mw 12:30 crypto | Priya Raman | Ark adds to Coinbase stake as crypto shares slide
  Cathie Wood's Ark Invest bought about 210,000 Coinbase shares across three ETFs on Friday,
  according to its daily trade disclosures, after the stock fell 7% this week.
mw 16:15 none | Samuel Okafor | Wildfire near Ventura forces evacuations as Santa Ana winds return
  About 3,000 residents were ordered to leave as a brush fire spread across 2,400 acres. Utilities
  cut power to 40,000 customers as a precaution.
ht 10:00 none | Staff | Farmers market moves indoors for winter season
  The Saturday market will run in the old Pier 6 warehouse through March.
ht 14:30 crypto | Ruth Feldman | How local credit unions are handling members' crypto questions
  Two Harbourside credit unions say they now field weekly questions about bitcoin ETFs, and one
  plans to offer crypto custody through a regulated partner next year.
ht 20:45 none | Staff | Mariners held to 1-1 draw by Kingsport
  A stoppage-time equaliser denied the Mariners a win, but the draw was enough to keep them in a
  playoff place.
bf 10:20Z crypto | Lena Hartmann | Weekly wrap: ETF outflows, MiCA licences and a quieter memecoin market
  Bitcoin lost 3% on the week. The bright spots were regulatory: new licences in Sweden and
  Singapore's enforcement push, which executives said will sort serious firms from the rest.
bf 15:00+01:00 none | Tomasz Wrobel | Ethereum developers set December date for next network upgrade
  Core developers tentatively scheduled the upgrade for December 10, pending a final test on the
  Hoodi network.
bf 22:10+09:00 crypto | Wei Ling Tan | Japanese exchange adds yen stablecoin pairs after regulator approval
  Tokyo-based Sakura Exchange listed trading pairs against a yen-backed stablecoin after the
  Financial Services Agency approved the issuer's registration.
cl 09:30 ai | Hannah Price | The week in AI: capex keeps climbing, productivity data finally blinks
  Big tech's spending plans grew again, AMD beat forecasts and third-quarter productivity came in
  strong. Whether AI caused the jump is still an open question.
cl 13:00 none | Jae-won Park | Review: the Lumo Fold 3 is the first foldable we would actually carry
  Lighter and cheaper than its predecessor, with a crease you have to look for. Battery life is
  still a day, just.
cl 15:40 none | Omar Haddad | Hackers claim breach of ticketing platform, 2 million records exposed
  A criminal group posted samples of what it said were customer records from TixHub. The company
  said it is investigating.
rl 10:00 none | Jonas Keller | FC Rheinau appoint youth coach as interim manager
  Under-19 coach Dario Hess will lead the first team for the next three matches.
rl 15:30 none | Jonas Keller | Weekend weather: first snow expected in the Black Forest
  Forecasters expect up to 10 cm of snow above 800 metres on Sunday.

@ 2026-11-08
mw 10:00 ai+fed | Jordan Alvarez | Week ahead: CPI, Microsoft Ignite and AMD's analyst day in focus
  October inflation data on Thursday will test bets on a December Fed cut, while Microsoft's
  Ignite conference and AMD's investor day will show whether AI spending is turning into revenue.
mw 13:20 fed | Elena Marsh | Fed officials lined up to speak as December cut debate heats up
  At least six Federal Reserve policymakers speak this week. Markets will listen for views on the
  labor market and on how long reserve-management bill purchases continue.
mw 18:00 none | Grace Holloway | Early winter storm to bring snow to Great Lakes this week
  Forecasters expect up to a foot of lake-effect snow in parts of Michigan and western New York
  from Tuesday.
ht 11:00 none | Staff | Harbour Bridge lane closures set for overnight repairs
  Two lanes will close nightly from 10 p.m. to 5 a.m. through November 20.
ht 15:15 ai | Daniel Okoro | Sunday business: the small firms using AI to cut paperwork
  A plumbing contractor, a dental practice and a freight broker told the Times that AI tools cut
  invoicing and scheduling work by a few hours a week, but none has reduced staff.
ht 19:40 none | Staff | Mariners' playoff hopes hinge on final away trip
  A win at Portsmouth City on Friday would guarantee a top-eight finish.
bf 09:00Z none | Lena Hartmann | Bitcoin steadies near $90,000 over weekend as funding rates reset
  Perpetual futures funding rates turned slightly negative, a sign leveraged traders have cut long
  positions.
bf 14:40-05:00 crypto | Marcus Bell | Crypto exchange Bastion Digital said to plan IPO launch as soon as Monday
  Bastion Digital Markets, the New York-based exchange with 11 million verified users, is
  preparing to launch its initial public offering on Nasdaq as soon as Monday, people familiar
  with the matter said.
bf 20:00+08:00 crypto | Wei Ling Tan | Tether reports $190 billion in circulation, raises Treasury holdings
  Tether's quarterly attestation showed USDT circulation of about $190 billion and holdings of US
  Treasury bills above $130 billion.
cl 10:30 ai | Hannah Price | What to expect at Microsoft Ignite: agents, pricing and proof of payback
  Microsoft is expected to show new Copilot agents and, customers hope, harder numbers on time
  saved.
cl 12:45 ai | Omar Haddad | Opinion: the AI capex boom needs a productivity story, and it is late
  Three years into the build-out, the productivity statistics have barely moved. That does not
  make it a bubble, but it is a bill that is coming due.
cl 15:15 none | Jae-won Park | Esports league signs streaming deal worth $90 million
  The Pacific Masters league agreed a four-year streaming deal that roughly doubles its media
  income.
rl 11:00 none | Katrin Vogel | Sunday interview: a Mannheim machine-tool maker on tariffs and China
  The family-owned company expects sales to fall 8% this year and is moving some assembly to Mexico.
rl 14:00 crypto | Felix Brandt | Crypto firms line up for EU licences before MiCA transition ends
  Dozens of exchanges and custodians have applications pending with national regulators ahead of
  the end of transitional arrangements, lawyers say.
rl 18:20 none | Jonas Keller | Rhine water levels rise after week of rain, easing barge costs
  The gauge at Kaub rose above 2 metres for the first time since September, allowing barges to
  load more fully.

@ 2026-11-09
mw 07:10 crypto | Priya Raman | Crypto exchange Bastion Digital launches IPO, seeks up to $1.1 billion
  NEW YORK (Meridian Wire) - Bastion Digital Markets is offering 36 million shares at $28 to $31 each and
  plans to list on Nasdaq under the symbol BSTN. Goldman Sachs and JPMorgan lead the deal, with Citi and
  Morgan Stanley also underwriting.
  The exchange said it would settle part of the offering in USDC, a first for a US IPO. <a
  href="https://www.sec.gov/">Filing</a>.
mw 09:45 ai | Wei Chen | Goldman: AI spending to hit $1.2 trillion in 2026-27, productivity payoff 'still ahead'
  Goldman Sachs economists estimate AI-related investment will total $1.2 trillion across this
  year and next, but say AI has so far added only about 0.1 percentage point to US productivity
  growth. They expect 1.0-1.5 points a year by the early 2030s.
mw 13:30 fed | Elena Marsh | Banks ease lending standards for first time in two years, Fed survey shows
  The Fed's senior loan officer survey showed a net share of banks easing standards on commercial
  loans, which economists linked to lower policy rates and ample liquidity.
mw 16:10 ai | Jordan Alvarez | S&P 500 closes at record 7,388 as chipmakers rally into AI-heavy week
  The S&P 500 rose 0.8% and the Nasdaq 100 1.3%, led by Nvidia, AMD and Broadcom, ahead of
  Microsoft's Ignite conference and AMD's analyst day.
ht 12:00 crypto | Nadia Brooks | Bastion Digital IPO: what the crypto exchange's filing reveals
  Bastion earned $310 million on revenue of $1.9 billion in the first nine months of the year.
  About 38% of revenue came from interest on stablecoin reserves and payment fees, and it holds
  licences in 46 states.
ht 16:40 none | Marisol Grant | Council approves 1,200-unit waterfront housing plan
  The project on the former rail yards will include 300 below-market units and a new ferry landing.
ht 20:20 none | Staff | Dense fog delays morning flights at Harbourside airport
  More than 60 departures were delayed and 12 cancelled before the fog lifted around 11 a.m.
bf 08:30-05:00 crypto | Marcus Bell | Bastion Digital sets IPO range at $28-$31, plans partial settlement in USDC
  Bastion's prospectus says a portion of investor allocations will be paid and delivered in USDC
  through its underwriters, with Circle acting as settlement agent.
bf 12:15Z none | Lena Hartmann | Bitcoin rebounds to $92,500 as weekend selling fades
  Bitcoin rose 3% and ether 4% in European trading, recovering most of last week's losses.
bf 18:00+01:00 crypto | Tomasz Wrobel | Tokenised money-market funds pass $9 billion as BlackRock's BUIDL grows
  Assets in tokenised money-market funds rose above $9 billion, with BlackRock's BUIDL fund the
  largest at about $3.1 billion.
cl 07:30 ai | Hannah Price | Study: AI lifts task productivity 10-15% but firm output only 0.5-0.6%
  The Halvorsen Institute surveyed 4,200 US firms and found that AI tools raise output on specific
  tasks by 10-15%, while output per worker at adopting firms has risen only between 0.5% and 0.6%
  a year so far.
  "The gains are real but they are stuck in the task," the authors write.
cl 11:00 ai | Omar Haddad | Nvidia, TSMC lead chip rally as investors position for AI week
  Nvidia rose 3% and TSMC 2.5%. Options traders added bets on further gains through Nvidia's
  results on November 18.
cl 14:20 none | Jae-won Park | Smart-home maker Dwellio recalls 40,000 thermostats
  The company said a wiring fault could cause some units to overheat. No injuries have been
  reported.
rl 08:40 ai | Katrin Vogel | Kessler Software says AI features now in 40% of new cloud contracts
  The Walldorf-area software group said customers are paying for AI add-ons in four of ten new
  cloud deals, but that savings for clients are still hard to measure.
rl 12:10 none | Jonas Keller | Low-cost airline Alpenjet lifts winter capacity 8%
  The carrier will add routes from Munich and Vienna to the Canary Islands.
rl 16:45 none | Felix Brandt | Euro-zone investor morale improves in November, Sentix shows
  The index rose to -4.1 from -7.8, its best reading since spring.

@ 2026-11-10
mw 06:30 ai | Wei Chen | TSMC October revenue jumps 41% to record on AI chip demand
  TAIPEI (Meridian Wire) - Taiwan Semiconductor Manufacturing's October sales rose 41% from a year earlier
  to a record NT$367 billion, driven by orders for AI accelerators.
mw 10:05 ai | Wei Chen | Microsoft says Copilot agents cut case-handling time 20% at early customers
  At its Ignite conference Microsoft said early users of its customer-service agents handled cases
  about 20% faster, and priced the agents at $30 per user a month.
mw 12:45 none | Samuel Okafor | Oil rises 2% after pipeline outage in North Sea
  Brent rose to $66.10 a barrel after an operator shut a pipeline carrying about 400,000 barrels a
  day for repairs.
mw 15:30 fed | Elena Marsh | Fed governor: further gradual easing likely appropriate as labor market cools
  A Federal Reserve governor said the cooling labor market and inflation near 2.6% justify
  "further gradual reductions" in the policy rate, adding that the bill purchases are about
  liquidity, not stimulus.
ht 13:20 ai | Ruth Feldman | Harbourside's biggest employers say AI has not yet changed hiring plans
  Of ten large local employers asked by the Times, eight said AI tools had not changed hiring
  plans for next year; two said they expect slower hiring in back-office roles.
ht 17:00 crypto | Daniel Okoro | Vanguard adds spot Solana and XRP ETFs to its brokerage platform
  Vanguard customers can now buy additional spot crypto ETFs through its brokerage, although the
  firm said it has no plans to launch crypto funds of its own.
ht 21:10 none | Staff | Bayview to face Crestwood again in state semifinal
  The rematch is set for Friday night at Harbour Stadium.
bf 09:10+08:00 rot | Wei Ling Tan | Asian desks report surge in AI-token volumes as Nvidia rally spills over
  Trading in tokens tied to AI projects doubled overnight on Asian exchanges as traders sought
  crypto exposure to the chip rally, desk heads in Singapore and Seoul said.
bf 14:20-05:00 crypto | Marcus Bell | Coinbase says institutional trading volume hit record in October
  Coinbase said institutional volume rose 35% from September, led by hedge funds and asset
  managers trading through its prime brokerage.
bf 19:45Z none | Lena Hartmann | Hacker returns $9 million to DeFi lender, keeps 10% bounty
  The attacker behind last week's Harbor Finance exploit returned most of the funds after
  negotiations.
cl 08:00 ai | Hannah Price | Live from Ignite: Microsoft prices agent seats at $30 a user, promises payback in months
  Microsoft executives said most customers recover the cost of agents within six months. Analysts
  want to see renewal rates before believing it.
cl 12:30 ai | Omar Haddad | AI coding startup Pyxis raises $400 million at $6 billion valuation
  Pyxis, whose assistant writes and reviews code, said annual recurring revenue has tripled this
  year to $240 million.
cl 15:30 none | Jae-won Park | Phone carrier outage hits emergency calls in three states
  A software update at a regional carrier blocked some 911 calls for about an hour.
rl 09:30 fed | Anna Lindqvist | UK unemployment rises to 5.1%, strengthening case for further BoE cuts
  The jobless rate rose to its highest since 2021, and wage growth slowed to 3.9%, data showed.
rl 13:00 ai | Katrin Vogel | ASML orders beat expectations as AI chipmakers expand
  The Dutch lithography maker said bookings from customers building AI chips more than offset
  weaker demand from memory makers.
rl 17:20 none | Jonas Keller | Trains halted on Cologne-Frankfurt line after cable theft
  Deutsche Bahn said the high-speed line would reopen Wednesday morning.

@ 2026-11-11
mw 07:40 ai | Wei Chen | AMD targets 35% annual growth, sees $1 trillion AI chip market by 2030
  AMD told investors at its analyst day that it expects revenue to grow more than 35% a year
  through 2030 and that the market for data-center AI accelerators could reach $1 trillion.
mw 10:30 none | Jordan Alvarez | Bond market closed for Veterans Day; stocks drift near records
  Stocks traded in a narrow range with bond markets shut. Retailers rose ahead of earnings next
  week.
mw 13:15 crypto | Priya Raman | Bastion Digital IPO said to be multiple times oversubscribed on first day
  Orders for Bastion's shares exceeded the number on offer within hours of books opening, people
  familiar with the deal said, with long-only funds and pension plans among the buyers.
mw 16:35 ai | Wei Chen | Cisco lifts forecast as AI networking orders reach $2 billion
  Cisco said orders for AI infrastructure from cloud and enterprise customers reached $2 billion
  in the quarter and raised its full-year revenue guidance.
ht 14:00 none | Staff | Veterans Day parade draws thousands downtown
  The parade along Harbour Avenue honoured local service members and marked the 75th anniversary
  of the city's veterans hall.
ht 16:30 ai | Daniel Okoro | AI payoff debate reaches the boardroom: CFOs want proof
  Finance chiefs at three Harbourside companies said they will tie next year's AI budgets to
  measured savings after two years of pilots.
ht 20:00 none | Marisol Grant | Grocery chain Fairlane to open three stores in Harbourside
  The chain will hire about 250 people for the new stores, the first opening in February.
bf 10:00Z crypto | Lena Hartmann | Ether climbs 4% to $3,420 as staking ETF inflows build
  US ether ETFs that pass staking rewards to investors took in $210 million this week, issuers'
  data show.
bf 15:30-05:00 crypto | Marcus Bell | Wall Street banks pitch tokenised collateral to CFTC ahead of pilot decision
  Executives from JPMorgan, Goldman Sachs and BlackRock met CFTC staff to discuss allowing
  stablecoins and tokenised money-market funds as margin for derivatives.
bf 21:00+09:00 crypto | Wei Ling Tan | South Korea lets listed companies open crypto trading accounts
  South Korea's Financial Services Commission lifted a ban on corporate crypto accounts for listed
  firms and professional investors, starting with a pilot of 3,500 companies.
cl 07:15 ai | Hannah Price | AMD lays out data-center roadmap, targets double-digit share of AI accelerators
  AMD said its next accelerator will ship in the second half of 2027 and that it aims for a
  double-digit share of a market dominated by Nvidia.
cl 11:45 ai | Omar Haddad | AI budgets up 40%, but only one in four firms measures returns
  A survey of 1,500 companies found AI spending rising about 40% next year, yet only 26% track
  returns on it in a formal way.
cl 14:50 none | Jae-won Park | Console maker cuts price of handheld by $50 ahead of holidays
  The price cut brings the device to $349 in the US from Friday.
rl 08:50 ai | Katrin Vogel | Bremer AG to spend €1.5 billion on AI-driven factory automation
  The industrial group said AI planning and robotics should lift output per worker at its German
  plants by 10-15% by 2029.
rl 12:40 none | Jonas Keller | Carnival season opens at 11:11 in Cologne and Mainz
  Tens of thousands of costumed revellers filled the old towns as the season began. Police
  reported a calm morning.
rl 17:00 ai | Anna Lindqvist | ECB official warns on AI-heavy equity concentration
  A member of the ECB's Executive Board said the dominance of a handful of AI-linked firms in
  global indices leaves European investors exposed to a sharp correction.

@ 2026-11-12
mw 08:35 fed | Elena Marsh | US consumer prices rise 0.2% in October; annual inflation slows to 2.6%
  WASHINGTON (Meridian Wire) - The consumer price index rose 0.2% last month and 2.6% from a year
  earlier, down from 2.8% in September. Core prices rose 0.2%, for an annual rate of 2.8%.
mw 10:00 fed | Jordan Alvarez | Rate-cut odds jump to 78% after tame inflation report
  Futures markets now see a 78% chance the Fed lowers its target range to 3.00%-3.25% in December.
  Bitcoin and gold rose, and the dollar fell.
mw 13:40 ai | Wei Chen | Meta sells $25 billion of bonds to fund AI data centers; orders top $110 billion
  Meta's bond sale, one of the largest ever by a US company, drew more than $110 billion of
  orders. Proceeds will fund data centers and AI chips.
mw 16:20 ai+fed | Jordan Alvarez | S&P 500 closes at record 7,412 as rate hopes and AI lift tech
  The S&P 500 gained 0.7% and the Nasdaq 100 1.1%. Nvidia rose 3% and Meta 2% after its bond sale.
ht 13:50 none | Ruth Feldman | Inflation cools, but Harbourside rents are still up 5%
  Average asking rent for a one-bedroom apartment reached $2,690, listing data show.
ht 17:10 crypto | Nadia Brooks | Goldman Sachs expands crypto trading desk ahead of Bastion listing
  Goldman Sachs is adding traders and will offer clients spot bitcoin and ether trading through a
  licensed affiliate, people familiar with the plans said.
ht 21:30 none | Staff | Coastal storm to bring heavy rain and gusts on Saturday
  The weather service expects 2 to 3 inches of rain and gusts near 50 mph along the coast.
bf 08:45-05:00 fed | Marcus Bell | Bitcoin climbs to $95,100 after CPI as traders price December cut
  Bitcoin rose 3% within an hour of the inflation report. Traders said easier Fed policy and the
  central bank's bill purchases are adding to liquidity that tends to lift crypto.
bf 13:10Z crypto | Lena Hartmann | OCC finalises stablecoin reserve standards under GENIUS Act
  The Office of the Comptroller of the Currency set rules for federally supervised stablecoin
  issuers, requiring one-to-one reserves in cash, deposits and short-term Treasuries and monthly
  public reports.
bf 18:30+01:00 none | Tomasz Wrobel | NFT marketplace Mosaic shuts down, citing low volumes
  Mosaic will stop new listings next week and close in January. Monthly volume fell below $2
  million this year.
cl 06:40 ai | Hannah Price | Meta's $25 billion bond deal shows AI build-out is now a debt story
  Cash flow no longer covers the spending. Investors are happy to lend for now, but AI revenue has
  to catch up.
cl 10:50 none | Jae-won Park | Streaming group Orion Media beats subscriber estimates
  Orion added 3.2 million subscribers, helped by a hit drama series and a cheaper ad tier.
cl 14:45 ai | Omar Haddad | Nvidia rises 3%; options market prices 8% move on next week's results
  The options market implies an 8% move in either direction after Nvidia reports on November 18.
rl 09:15 fed | Anna Lindqvist | UK economy grows 0.1% in third quarter, adding pressure on BoE
  Growth slowed from 0.3% in the second quarter, and markets raised bets on another Bank of
  England cut early next year.
rl 13:30 ai | Katrin Vogel | Paris AI startup Aubrac raises €600 million
  Aubrac AI, which builds models for banks and insurers, was valued at €7 billion. The round was
  led by a US venture firm.
rl 18:10 none | Jonas Keller | Airport strike in Brussels cancels 300 flights
  Ground handlers walked out over pensions, and the airport asked passengers to stay away.

@ 2026-11-13
mw 08:30 fed | Elena Marsh | Producer prices flat in October, adding to signs of easing inflation
  The producer price index was unchanged last month, below forecasts for a 0.2% rise. Lower energy
  costs offset higher prices for services.
mw 10:10 none | Jordan Alvarez | Consumer sentiment dips to 51.9 as job worries rise
  The preliminary November reading fell from 53.4, with more households expecting unemployment to
  rise.
mw 12:50 crypto | Priya Raman | BlackRock's Larry Fink says tokenization will 'reshape' fund distribution
  Speaking at a conference in New York, BlackRock chief executive Larry Fink said every fund will
  eventually be offered in tokenized form and that BlackRock's bitcoin ETF is "the fastest-growing
  product we have ever launched".
mw 15:40 ai | Wei Chen | AI stocks slip as investors take profits before Nvidia results
  Microsoft fell 1.8% and Alphabet 1.5%. Strategists said some investors are trimming AI positions
  after a fund manager survey showed rising bubble worries.
ht 12:20 ai | Daniel Okoro | Local startups say AI tools let them hire fewer engineers
  Founders at four Harbourside startups said AI coding assistants let them ship with smaller
  teams, though all were still hiring.
ht 16:50 none | Marisol Grant | Ferry strike ends with 4% pay deal
  Crews accepted a two-year contract, and full service resumes Saturday.
ht 20:40 none | Staff | Mariners clinch playoff spot with 2-0 win at Portsmouth City
  Goals in each half secured a top-eight finish. The quarterfinal first leg is Monday.
bf 09:40Z rot | Lena Hartmann | Bitcoin ETFs log $520 million inflow as AI trade cools
  Spot bitcoin ETFs took in $520 million on Thursday, the most in a month. Desk analysts said some
  of the money came from hedge funds trimming AI stock positions.
bf 14:30-05:00 crypto | Marcus Bell | Bastion roadshow: investors ask about stablecoin revenue
  Fund managers at Bastion's roadshow meetings focused on how falling interest rates would cut
  income from stablecoin reserves, which makes up a large part of its revenue.
bf 19:20+08:00 none | Wei Ling Tan | Crypto gaming token falls 40% after team unlock
  A large scheduled release of tokens to the developers of a web3 game sent its price down 40%.
cl 07:20 ai | Hannah Price | Week in AI: Ignite, AMD and a debt-fuelled build-out
  Microsoft promised payback, AMD promised growth and Meta borrowed $25 billion. The Halvorsen
  study is the week's reality check.
cl 11:30 none | Omar Haddad | AI assistants suggest '<script>alert(1)</script>' test payloads in production code
  Security researchers found AI coding tools reproducing cross-site scripting test strings copied
  from tutorials. Most were caught in review.
cl 15:10 none | Jae-won Park | Electric-scooter firm Glide files for bankruptcy
  Glide said it will keep operating in 12 cities while it seeks a buyer.
rl 08:40 none | Katrin Vogel | Euro-zone GDP growth confirmed at 0.2%; employment edges up
  Eurostat confirmed quarterly growth of 0.2% and said employment rose 0.1%.
rl 13:10 crypto | Felix Brandt | Savings banks report 80,000 sign-ups for bitcoin trading
  Ten days after the pilot started, 80,000 customers have activated crypto trading, the savings
  banks association said.
rl 17:30 none | Jonas Keller | Weekend storm warning for the Baltic coast
  Storm Cornelius is expected to bring storm surges of up to 1.5 metres to Kiel and Rostock on
  Saturday.

@ 2026-11-14
mw 09:30 none | Grace Holloway | Lake-effect snow buries western New York, closing highways
  Parts of the region received more than 14 inches of snow and a 40-mile stretch of the Thruway
  was closed overnight.
mw 12:00 ai | Wei Chen | Analysis: AI's productivity payoff shows up in data, but economists split on how much
  Third-quarter productivity was strong, but economists disagree on how much of it comes from AI
  rather than slower hiring. The Halvorsen Institute's firm-level study suggests the answer is:
  not much yet.
mw 15:30 crypto | Priya Raman | Cathie Wood says Ark will 'participate' in Bastion IPO
  Ark Invest chief executive Cathie Wood told a podcast that the firm would take part in the
  offering, calling Bastion "a regulated on-ramp for the next hundred million crypto users".
ht 10:30 none | Staff | Storm knocks out power to 18,000 homes
  Utility crews expect to restore most customers by Sunday evening.
ht 14:00 none | Ruth Feldman | Open houses slow as buyers wait for lower mortgage rates
  Agents said weekend traffic was down by a third from the spring.
ht 19:00 none | Staff | Bayview falls to Crestwood in state semifinal
  Crestwood avenged last week's loss with a 31-17 win.
bf 11:00Z crypto | Lena Hartmann | Weekly wrap: ETF inflows return, Bastion books fill, OCC sets stablecoin rules
  Bitcoin gained 5% this week as funds returned to ETFs, and the stablecoin rulebook in the US
  took shape.
bf 16:20+01:00 none | Tomasz Wrobel | Solana validators approve fee change
  Validators voted to change how priority fees are shared, a move developers said would reduce spam.
bf 23:00+09:00 rot | Wei Ling Tan | Bitcoin miners' shares surge on AI data-center hosting deals
  Listed miners rose as much as 18% after two signed contracts to host AI servers. Analysts said
  investors are treating miners as a way to ride AI demand and bitcoin at the same time.
cl 10:00 ai | Hannah Price | Longread: inside a factory where AI planning cut downtime by 12%
  A Michigan auto-parts plant used AI scheduling to cut unplanned downtime by 12%. It took 18
  months and a lot of sensors.
cl 13:10 none | Jae-won Park | Holiday gadget prices fall as retailers clear stock
  Discounts on TVs and headphones are deeper than last year, price trackers say.
cl 15:20 none | Omar Haddad | Hackers exploit home router flaw; patch urged
  The flaw affects about 2 million routers. The manufacturer released a fix on Friday.
rl 10:40 none | Jonas Keller | FC Rheinau end losing run with 2-1 win over SV Neckarau
  The interim coach's first win lifted Rheinau to 14th.
rl 14:00 none | Jonas Keller | Storm Cornelius floods Baltic harbours; ferries suspended
  Water entered streets in Flensburg and Wismar. Ferries to Denmark were suspended.
rl 17:50 ai | Katrin Vogel | Interview: why a Frankfurt fund manager sold her AI stocks
  "Capex is rising faster than anyone's ability to earn it back," said Helena Roth of Mainhafen Asset
  Management, who sold most of her AI holdings in October.

@ 2026-11-15
mw 10:00 ai+crypto | Jordan Alvarez | Week ahead: Nvidia results, Fed minutes and a crypto IPO test
  Nvidia reports on Wednesday, the Fed releases minutes of its October meeting the same day, and
  Bastion Digital is expected to price its IPO.
mw 13:10 none | Samuel Okafor | Thanksgiving travel expected to hit record 82 million
  Travel firms and motoring groups expect a record 82 million people to travel 50 miles or more
  over the holiday week, most of them by car. Airlines expect their busiest Sunday ever on
  November 29.
mw 17:30 fed | Elena Marsh | Fed's December decision: what officials have signaled
  Most Fed speakers last week said further easing is likely, while two warned about cutting too
  fast with inflation still above target.
ht 11:30 ai | Daniel Okoro | Sunday business: the bookkeeper who let an AI close the books
  A Harbourside accounting firm says month-end close now takes three days instead of five. The
  partners still check every entry.
ht 15:00 none | Staff | Harbourside marathon draws 22,000 runners
  Local runner Eli Navarro won the men's race in 2:14:52, and road closures lifted by early
  afternoon.
ht 19:30 none | Staff | Weather: clear and cold start to the week
  Lows near 38 degrees are expected inland on Monday and Tuesday.
bf 09:30Z crypto | Lena Hartmann | Bitcoin holds $94,000 as traders eye Bastion debut
  Options traders bought calls expiring next week, betting the listing could lift sentiment.
bf 15:00-05:00 crypto | Marcus Bell | Analysis: why an IPO settled in USDC matters for Wall Street plumbing
  If Bastion's stablecoin settlement works, underwriters could settle deals in minutes instead of
  a day and cut counterparty risk.
bf 20:30+08:00 crypto | Wei Ling Tan | Thai SEC approves first tokenised bond sale
  A Bangkok utility will sell 2 billion baht of bonds issued and settled on a permissioned
  blockchain.
cl 10:30 ai | Hannah Price | Opinion: Nvidia's quarter won't settle the AI bubble question
  Nvidia's results tell us what the buyers spent, not whether they will earn it back.
cl 12:00 none | Jae-won Park | Rocket startup scrubs launch for third time
  A valve problem forced Skyreach to stand down again. The next window opens in December.
cl 14:40 ai | Omar Haddad | Newsletter: the AI tools our readers actually pay for
  Coding assistants and meeting notetakers lead our reader survey. Agents are still mostly trials.
rl 11:00 fed | Anna Lindqvist | Sunday interview: the Nordhaven Bank economist who expects the ECB to cut twice
  Tomas Ekdahl expects the ECB to take the deposit rate to 1.50% by March as inflation undershoots
  and growth stalls.
rl 14:30 none | Jonas Keller | Christmas markets prepare to open with tighter security
  Cities across Germany are adding barriers and bag checks ahead of the markets opening next week.
rl 18:00 none | Jonas Keller | Germany's handball team beats Denmark in warm-up
  Germany won 31-29 in Kiel in their last match before the winter tournament.

@ 2026-11-16
mw 07:05 crypto | Priya Raman | New York regulator grants Bastion Digital trust charter days before IPO
  NEW YORK (Meridian Wire) - The New York State Department of Financial Services granted Bastion Digital a
  limited-purpose trust charter, letting it hold customer assets directly rather than through a custodian.
mw 09:40 none | Jordan Alvarez | Empire State manufacturing index rises to 6.2 in November
  The New York Fed's survey showed new orders rising for a second month.
mw 12:15 crypto | Priya Raman | Bitcoin ETFs draw $780 million as institutional demand picks up
  Spot bitcoin funds took in $780 million on Friday. Issuers said advisers and pension funds were
  among buyers after a new round of platform approvals.
mw 15:55 none | Samuel Okafor | Natural gas prices jump 6% on colder forecasts
  US natural gas futures rose to $4.10 per million British thermal units as forecasts turned
  colder for late November.
ht 12:40 crypto | Nadia Brooks | NYDFS charter lets Bastion custody assets for institutions; rivals rise
  The trust charter puts Bastion in the same regulatory class as the largest crypto custodians.
  Coinbase shares rose 3%.
ht 16:10 none | Marisol Grant | Harbourside hospitals brace for early flu season
  Emergency room visits for flu-like illness doubled in two weeks.
ht 20:50 none | Staff | Mariners held to goalless draw in playoff quarterfinal first leg
  The return leg is Thursday at Pier Stadium.
bf 08:00-05:00 crypto | Marcus Bell | NYDFS approves Bastion trust charter; exchange can hold client assets directly
  The charter, one of a handful granted by New York's financial regulator, requires audited
  reserves and quarterly reports. Bastion said it will move institutional custody in-house next
  year.
bf 13:20Z crypto | Lena Hartmann | Fidelity opens bitcoin and ether trading in IRAs for 20 million account holders
  Fidelity said retirement-account customers can now trade bitcoin and ether directly, with assets
  held by Fidelity Digital Assets.
bf 18:40+01:00 crypto | Tomasz Wrobel | Swiss private bank Lindqvist & Co offers stablecoin payments to clients
  The Geneva bank will let clients pay and receive USDC and a euro stablecoin through their
  accounts, with compliance checks done by the bank.
cl 07:10 ai | Hannah Price | Nvidia preview: analysts expect $69 billion in revenue, data center near $61 billion
  Consensus expects revenue of about $69.1 billion for the quarter. Investors will focus on the
  outlook and on orders for 2027.
cl 11:20 none | Jae-won Park | Streaming merger talks between Orion Media and Crestline collapse
  The two sides could not agree on price, people familiar with the talks said.
cl 14:40 ai | Omar Haddad | AI customer-service startup Tallyho posts first profitable quarter
  Tallyho said its agents now resolve 55% of queries for 300 business customers.
rl 09:20 fed | Anna Lindqvist | ECB policymaker: December cut possible if growth falters
  A Governing Council member said the ECB should not "wait for the data to get worse" before
  easing again.
rl 13:00 crypto | Felix Brandt | BaFin grants crypto custody licence to Landesbank Mittelrhein
  The regional lender is the first German state bank to get a crypto custody licence and will
  serve fund managers from January.
rl 17:10 none | Jonas Keller | Snow closes Alpine passes as early winter arrives
  Several Swiss and Austrian passes closed after up to 50 cm of snow.

@ 2026-11-17
mw 07:00 crypto | Priya Raman | Bastion Digital raises IPO range to $32-$34 and upsizes deal to 40 million shares
  NEW YORK (Meridian Wire) - Bastion Digital lifted the price range of its IPO from $28-$31 and increased
  the number of shares to 40 million, citing strong demand. At the top of the range the deal would raise
  $1.36 billion.
mw 08:40 none | Jordan Alvarez | Retail sales rise 0.3% in October, beating forecasts
  Sales at car dealers and online retailers rose, while gas station receipts fell.
mw 10:20 none | Samuel Okafor | Brightmart raises holiday outlook as shoppers trade down
  The discount retailer now expects fourth-quarter comparable sales to rise 3-4% and said
  higher-income households are a growing share of shoppers.
mw 13:05 ai | Wei Chen | Fund managers call AI stocks a bubble in survey, but keep buying
  In a widely followed monthly survey, 54% of fund managers said AI stocks are in a bubble, yet
  "long AI megacaps" remained the most crowded trade.
mw 16:30 crypto | Priya Raman | Citi and JPMorgan to act as settlement banks for stablecoin leg of Bastion IPO
  The two banks will convert dollars to USDC for investors who want to settle in stablecoins,
  people familiar with the deal said.
ht 12:00 crypto | Daniel Okoro | Bastion Digital IPO upsized on strong demand; pension funds among buyers
  A state pension fund and several endowments have put in orders, bankers said, a sign that crypto
  firms are now mainstream holdings.
ht 15:45 none | Ruth Feldman | Pinecrest Home sales fall 2% as housing turnover stays low
  The chain said customers are delaying large projects until mortgage rates fall further.
ht 19:30 crypto | Nadia Brooks | Crypto goes mainstream at the Harbourside Financial Forum
  Bankers at the annual forum spent more time on stablecoin payments and custody than on rate cuts.
bf 07:30-05:00 crypto | Marcus Bell | Bastion IPO upsized: 40 million shares at $32-$34, stablecoin settlement confirmed
  Bastion's amended filing confirms that investors can settle allocations in USDC through Citi and
  JPMorgan.
bf 11:00Z crypto | Lena Hartmann | CFTC to approve tokenised collateral pilot at CME this week, sources say
  The Commodity Futures Trading Commission is expected to allow USDC and tokenised Treasury funds
  as margin for futures, in a pilot limited to large clearing members.
bf 16:15+01:00 none | Tomasz Wrobel | Bitcoin climbs to $97,900, highest in six weeks
  Bitcoin gained 2% in European trading and ether rose 3% to $3,590. Derivatives data show traders
  adding long positions ahead of the Bastion IPO pricing.
bf 21:00+08:00 crypto | Wei Ling Tan | Hong Kong licenses two more exchanges as Asia competes for crypto business
  The Securities and Futures Commission granted licences to two more platforms, bringing the total
  to 13.
cl 08:15 ai | Hannah Price | Survey: 54% of fund managers say AI stocks are in a bubble
  Bubble worries about AI stocks are at a record in the monthly survey, yet cash levels remain low
  and most managers expect AI capex to keep rising next year. A majority said companies are
  overinvesting.
cl 10:40 crypto | Jae-won Park | Retail brokers add Bastion IPO access as crypto goes mainstream
  Three app-based brokers will let customers request Bastion shares at the IPO price, a first for
  a crypto company. Bastion holds money-transmitter licences in 46 states and, since Monday, a New
  York trust charter.
cl 12:00 ai | Omar Haddad | Chipmaker shares slip as investors hedge before Nvidia
  The Philadelphia semiconductor index fell 1.4% as investors bought put options.
cl 15:10 none | Jae-won Park | Smart-glasses startup recalls charging cases
  About 15,000 charging cases may overheat, the company said.
rl 08:30 none | Katrin Vogel | German ZEW investor sentiment rebounds in November
  The index rose to 41.0 from 32.5, helped by hopes for lower interest rates and a truce in trade
  talks.
rl 12:20 crypto | Felix Brandt | Frankfurt bankers see Bastion listing as template for EU crypto IPOs
  Bankers said a successful US debut would encourage European exchanges with MiCA licences to
  consider listings next year.
rl 16:50 none | Katrin Vogel | Aerospace supplier Lindauer wins €2 billion engine order
  The order runs for ten years and secures work at its Bavarian plants.

@ 2026-11-18
mw 08:30 none | Samuel Okafor | Housing starts fall 3.1% in October as builders pull back
  Starts fell to an annual rate of 1.27 million, with single-family construction at its lowest in
  a year.
mw 10:45 crypto | Priya Raman | CFTC approves USDC and tokenized Treasury funds as margin at CME
  The CFTC approved a pilot allowing clearing members to post USDC and BlackRock's tokenized
  Treasury fund as collateral for futures, a first for a US derivatives clearing house.
mw 14:00 fed | Elena Marsh | Fed minutes: many officials saw further rate cuts as likely appropriate
  WASHINGTON (Meridian Wire) - Many Federal Reserve officials judged at the October meeting that
  further cuts would likely be appropriate, minutes showed, while several preferred to pause.
  Officials also discussed continuing bill purchases into next year to keep reserves ample.
mw 16:25 ai | Wei Chen | Nvidia revenue jumps 57% to $71.4 billion; forecast tops estimates
  Nvidia's third-quarter revenue rose 57% to $71.4 billion, with data-center revenue of $62.8
  billion. It forecast fourth-quarter revenue of $79 billion, plus or minus 2%, above estimates of
  $76 billion. Shares rose 3.8% after hours.
mw 20:10 crypto | Priya Raman | Bastion Digital prices IPO at $35, above raised range, raising $1.4 billion
  Bastion sold 40 million shares at $35, above the raised range of $32-$34, valuing the exchange
  at $15.2 billion on a fully diluted basis. About $420 million of the allocation will settle in
  USDC. Trading on Nasdaq begins Thursday.
ht 19:20 fed,wire | Meridian Wire | Fed minutes: many officials saw further rate cuts as likely appropriate
  Many Federal Reserve officials judged at the October meeting that further cuts would likely be
  appropriate, minutes showed, while several preferred to pause. Officials also discussed
  continuing bill purchases into next year.
ht 17:30 crypto | Daniel Okoro | Pension fund backs crypto IPO: state plan among Bastion anchor investors
  The Harbour State Employees' Retirement System confirmed a $75 million order, its first direct
  investment in a crypto company.
ht 22:00 ai | Nadia Brooks | Nvidia results: a test of the AI trade's staying power
  Nvidia beat forecasts again. Harbourside fund managers said the bigger question is whether its
  customers will see returns on what they spend.
bf 06:45-05:00 crypto | Marcus Bell | Bastion pricing tonight: books more than 12 times covered
  Bankers expect the shares to price above the raised range, with BlackRock and Fidelity funds
  among anchor investors.
bf 11:40Z crypto | Lena Hartmann | CFTC greenlights tokenised collateral pilot; USDC and BUIDL accepted as margin
  The pilot starts in December at CME Clearing. Analysts said it brings stablecoins into the core
  of US market plumbing.
bf 16:20+01:00 rot | Tomasz Wrobel | Bitcoin nears $99,000 ahead of Nvidia and Bastion
  Traders said a strong Nvidia report could free up gains in AI stocks for rotation into crypto,
  as happened after the last two earnings.
bf 20:40-05:00 crypto | Marcus Bell | Bastion prices at $35: first US IPO to settle partly in a stablecoin
  About $420 million of the $1.4 billion offering will settle in USDC on Thursday through Citi and
  JPMorgan, with Circle as settlement agent.
cl 09:00 ai | Hannah Price | Nvidia day: what the AI trade needs to hear
  Guidance above $77 billion, comments on 2027 orders and signs that customers are earning money
  on AI.
cl 10:45 crypto | Jae-won Park | How Bastion will settle part of its IPO on a public blockchain
  Investors who opt in send USDC to an escrow wallet run by Circle; when the deal closes, Citi and
  JPMorgan release shares through the normal depository and the stablecoin goes to Bastion.
  Compliance checks happen before a wallet is accepted.
cl 13:30 ai | Omar Haddad | Nvidia beats on revenue, guides to $79 billion; shares up 4% after hours
  Data-center revenue reached $62.8 billion. The company said demand for its next systems exceeds
  supply into next year.
cl 15:00 ai | Hannah Price | On Nvidia's call: supply limits, sovereign AI and the question of returns
  Executives said governments are now a large group of customers and argued that AI inference is
  already profitable for cloud providers.
rl 09:00 ai | Anna Lindqvist | ECB Financial Stability Review flags AI-driven market concentration
  The ECB said a correction in AI-linked stocks could hit euro-area investors, who have increased
  holdings of US technology shares.
rl 11:10 crypto | Felix Brandt | German asset managers put in orders for Bastion IPO
  At least two Frankfurt fund houses have ordered shares in the crypto exchange's listing, bankers
  said, a sign that regulated crypto firms now fit mainstream equity mandates.
rl 13:40 fed | Katrin Vogel | UK inflation falls to 3.0%, backing further Bank of England cuts
  Consumer price inflation slowed from 3.3% in September, and services inflation fell to 4.1%.
rl 17:30 crypto | Felix Brandt | Bastion's stablecoin settlement draws interest from Europe's exchanges
  Deutsche Börse and Euronext are watching the deal as a test for settling securities with euro
  stablecoins under MiCA.

@ 2026-11-19
mw 07:30 ai | Wei Chen | Nvidia shares rise 2% premarket; chip stocks follow
  Nvidia rose 2% before the open after its results, and AMD and Broadcom gained about 1%. Analysts
  raised price targets, citing AI data-center demand that still exceeds supply.
mw 10:40 crypto | Priya Raman | Bastion Digital soars 46% in Nasdaq debut
  NEW YORK (Meridian Wire) - Bastion opened at $51.20, 46% above its $35 IPO price, in the biggest debut by
  a crypto company since 2021. Coinbase rose 6%.
mw 12:30 rot | Jordan Alvarez | Traders rotate AI profits into bitcoin as it tops $100,000
  Bitcoin rose above $100,000 for the first time since September. Traders said hedge funds used
  gains in Nvidia and other AI stocks to buy bitcoin and Bastion shares.
mw 16:15 crypto | Priya Raman | Bastion closes up 61% at $56.35, valuing exchange near $24.5 billion
  Bastion shares rose as high as $58.90. The company and underwriters said the stablecoin
  settlement of about $420 million went through without problems.
mw 17:30 none | Samuel Okafor | Existing home sales edge up to 4.12 million annual rate
  Sales rose 1.2% in October, and the median price was $412,000, up 1.5% from a year earlier.
mw 19:45 crypto,republish | Priya Raman | Bastion Digital prices IPO at $35, above raised range, raising $1.4 billion
  Bastion sold 40 million shares at $35 on Wednesday, valuing the exchange at $15.2 billion on a
  fully diluted basis. The shares closed at $56.35 in their debut on Thursday.
ht 13:00 crypto | Nadia Brooks | Bastion Digital opens at $51.20 as crypto exchange makes Nasdaq debut
  Executives rang the opening bell at Nasdaq. Chief executive Rafael Ibarra said the listing shows
  crypto "belongs inside the regulated financial system".
ht 15:10 crypto | Ruth Feldman | Harbourside investors snap up Bastion shares through their brokers
  Local advisers said clients who had avoided crypto for years bought the newly listed exchange,
  calling it "a regulated way in".
ht 16:45 none | Ruth Feldman | Cedar & Vine shares drop 9% on weak apparel demand
  The retailer cut its holiday forecast, saying shoppers are buying fewer coats and more
  discounted basics.
ht 21:45 rot | Daniel Okoro | From chips to coins: AI winners move money into crypto, advisers say
  Wealth advisers said clients with large gains in Nvidia and other AI stocks are putting some of
  the profits into bitcoin ETFs and, this week, Bastion shares.
ht 23:10 none | Staff | Mariners advance to semifinal on penalties
  After a 1-1 draw, goalkeeper Tomas Rydell saved two spot kicks.
bf 09:00+01:00 crypto | Tomasz Wrobel | Bitcoin breaks $100,000 as Bastion debut nears
  Bitcoin crossed $100,000 in European trading, with ETF inflows and the IPO lifting sentiment.
bf 13:30-05:00 crypto | Marcus Bell | Bastion debut: $420 million of IPO settled in USDC, Circle says
  Circle said the stablecoin leg settled in under ten minutes. Citi and JPMorgan handled
  conversions for 14 institutional investors.
bf 17:00Z crypto | Lena Hartmann | Ark Invest buys 1.2 million Bastion shares on first day
  Ark's ARKK, ARKW and ARKF funds bought about $67 million of shares. Cathie Wood called it "a
  landmark day for digital assets on Wall Street".
bf 22:30+08:00 rot | Wei Ling Tan | Post-Nvidia, momentum funds pile into bitcoin and AI tokens
  Futures data show systematic funds adding crypto exposure as AI stocks stalled after Nvidia's
  results.
cl 07:00 ai | Hannah Price | Nvidia's results calmed AI nerves, for now
  The beat was big, but shares gave back half their after-hours gains by mid-morning.
cl 09:20 crypto | Jae-won Park | Bastion's stablecoin settlement worked. Here is what it proved
  The USDC leg of the IPO settled in under ten minutes with no failed transfers. Bankers say the
  bigger test is whether regulators let the same rails settle bonds and funds.
cl 11:30 rot | Omar Haddad | Why Silicon Valley's AI rich are buying the Bastion IPO
  Early employees at AI companies are a large group of buyers of crypto stocks, wealth managers
  say, diversifying out of paper gains in AI.
cl 14:20 none | Jae-won Park | New handheld console sells out on launch day
  Retailers reported sell-outs within hours, and resale prices doubled.
rl 09:40 ai | Katrin Vogel | European chip stocks rise after Nvidia results; ASML up 3%
  Suppliers to AI chipmakers led the Stoxx 600 higher after Nvidia's forecast, with ASML up 3% and
  Infineon up 2%. Traders said AI capex plans for 2027 look secure for now.
rl 14:10 crypto | Felix Brandt | Bastion's Nasdaq debut lifts European crypto stocks
  Shares of European crypto brokers and miners rose between 5% and 12% after Bastion's 61%
  first-day gain. Analysts said the listing gives regulated crypto firms a valuation benchmark.
rl 16:00 crypto | Felix Brandt | BaFin says stablecoin settlement is 'no longer an experiment'
  Germany's financial regulator said the Bastion deal shows licensed stablecoins can settle
  securities safely and that it will review applications from German banks to do the same under
  MiCA.
rl 18:30 none | Jonas Keller | Cabin crew strike grounds Alpenjet flights
  The airline cancelled 180 flights on Thursday and Friday.

@ 2026-11-20
mw 08:00 crypto | Priya Raman | Bastion's debut revives crypto IPO pipeline as rivals dust off filings
  At least three crypto firms are preparing to file for US listings in the first quarter, bankers
  said, after Bastion's 61% first-day gain.
mw 09:45 none | Jordan Alvarez | US business activity steady in November, flash PMI shows
  The composite index held at 53.1. Services firms reported more hiring.
mw 12:10 fed | Elena Marsh | Fed vice chair: bill purchases aim at ample reserves, not stimulus
  The Fed's vice chair said the central bank will keep buying Treasury bills until reserves are
  comfortably ample and that the purchases are separate from rate policy.
mw 15:30 ai | Wei Chen | AI stocks give back Nvidia gains as bubble worries resurface
  Nvidia fell 2.4% and the Nasdaq 100 lost 1.2% as investors questioned how long AI spending can
  grow at this pace.
ht 12:30 crypto | Daniel Okoro | What Bastion's IPO means for crypto's place on Wall Street
  A licensed, audited exchange now trades on Nasdaq, with big banks as underwriters and a
  stablecoin in the settlement chain.
ht 17:00 none | Marisol Grant | Harbourside ferry ridership hits post-pandemic high
  More than 1.1 million trips were taken in October.
ht 21:20 none | Staff | Weather: rain returns Sunday with gusty winds
  Up to an inch of rain is forecast for the city.
bf 08:30Z crypto | Lena Hartmann | Spot bitcoin ETFs take in $1.1 billion in a day, most since spring
  US spot bitcoin ETFs took in $1.1 billion on Thursday, with BlackRock's iShares Bitcoin Trust
  accounting for more than half and Fidelity's fund for a quarter. Issuers said pension funds and
  advisers were among the buyers.
bf 13:45-05:00 crypto | Marcus Bell | Coinbase shares jump 8% as investors rerate listed crypto firms
  Analysts said Bastion's valuation sets a higher benchmark for regulated exchanges.
bf 19:10+01:00 crypto | Tomasz Wrobel | ECB official warns stablecoins could drain euro-area deposits
  An ECB board member said the success of dollar stablecoins in settlement shows why a digital
  euro is needed.
cl 07:40 ai+rot | Hannah Price | Week in AI: Nvidia's beat, a bubble survey and the crypto detour
  Nvidia delivered another beat, fund managers said AI stocks look like a bubble, and some of the
  money made in AI shares went into bitcoin and the Bastion IPO.
cl 11:00 ai | Omar Haddad | Legal-AI startup Brief raises $150 million
  Brief says law firms using its drafting tools bill 10% fewer hours for routine contracts.
cl 14:30 none | Jae-won Park | Satellite-internet firm expands in-flight Wi-Fi deal
  Two more airlines will offer free Wi-Fi from next year.
rl 09:30 none | Katrin Vogel | Euro-zone flash PMI slips to 49.9 as France weakens
  French services activity fell for a third month.
rl 13:50 crypto | Felix Brandt | Bitcoin's return above $100,000 draws German retail investors back
  Online brokers and the savings banks' new crypto service reported a jump in accounts opened this
  week, as bitcoin traded above $100,000 for the first time since September.
rl 17:45 none | Jonas Keller | Rheinau derby sold out
  All 28,000 tickets for Saturday's match have been sold.

@ 2026-11-21
mw 09:00 none | Grace Holloway | Cold snap grips Northeast; heating oil prices climb
  Temperatures fell below freezing from Boston to Washington.
mw 12:30 crypto | Priya Raman | Weekend analysis: crypto's Wall Street moment, in numbers
  A state trust charter, a Nasdaq listing underwritten by Goldman Sachs and JPMorgan, $420 million
  settled in USDC and $3.2 billion of ETF inflows: the week crypto firms moved deeper into
  regulated finance.
mw 16:00 none | Samuel Okafor | Las Vegas braces for street race weekend traffic
  Road closures will affect the Strip through Sunday morning.
ht 10:00 none | Staff | Holiday tree lighting moves to Pier 9
  The ceremony is on December 4.
ht 14:20 none | Ruth Feldman | Landlords offer free months as apartment vacancies climb
  The vacancy rate reached 6.4% in new buildings.
ht 19:50 none | Staff | Mariners fall 2-1 in semifinal
  A late goal ended the season.
bf 10:00Z crypto | Lena Hartmann | Weekly wrap: Bastion, CFTC collateral and $3.2 billion of ETF inflows
  A New York trust charter, the Bastion IPO, the CFTC's collateral pilot and record ETF inflows
  made this the most important week for crypto's place in mainstream finance this year. Bitcoin
  ended back above $100,000.
bf 15:00+01:00 crypto | Tomasz Wrobel | Solana hits $189 as ETF demand builds
  US spot Solana ETFs took in $140 million this week, and CME said open interest in Solana futures
  hit a record.
bf 16:00-05:00 none | Marcus Bell | AI agents are now paying each other in stablecoins. Is it real?
  A few services let software agents pay per request in USDC. Volumes are still small.
cl 10:00 ai | Hannah Price | Longread: can AI capex earn its keep? Three scenarios for 2027
  We model returns on $600 billion of spending under fast, slow and no productivity gains.
cl 13:00 none | Jae-won Park | Early Black Friday discounts hit laptops and tablets
  Prices are down 15-25% on last year's models.
cl 15:00 none | Omar Haddad | Ransomware hits regional hospital group; ambulances diverted
  Three hospitals switched to paper records.
rl 10:30 none | Jonas Keller | Christmas markets open; organisers expect 3 million visitors
  Markets in Cologne, Nuremberg and Dresden opened on Saturday.
rl 14:00 crypto,nodate | Felix Brandt | Opinion: Europe should not fear a stablecoin-settled IPO
  Rules under MiCA already allow securities to settle against a licensed stablecoin. What is
  missing is a euro stablecoin that banks want to use.
rl 17:20 none | Jonas Keller | Rheinau win derby 3-1 against Rot-Weiss Ludwigshafen
  The win lifted Rheinau out of the relegation zone.
rl 20:10 none | Jonas Keller | Weather: icy roads expected overnight in the Palatinate
  Police warned drivers to take care on bridges.

@ 2026-11-22
mw 10:00 fed | Jordan Alvarez | Week ahead: Thanksgiving-shortened week, PCE data and Fed speakers
  Wednesday's PCE inflation data is the last major release before the Fed's December 8-9 meeting,
  where markets price an 80% chance of a quarter-point rate cut.
mw 13:00 ai | Wei Chen | Sunday analysis: AI's productivity dividend, a month of evidence
  Strong productivity data, a sobering firm survey and record AI spending: the case for AI paying
  off is stronger than a month ago, but not proven.
mw 17:00 none | Grace Holloway | Holiday shoppers expected to spend 3.5% more this year
  Retail groups expect holiday spending to grow 3.5%, with online sales growing faster than store
  sales.
ht 11:00 crypto | Daniel Okoro | Sunday business: the credit union that now holds bitcoin for members
  Bayview Community Credit Union began offering bitcoin custody through a chartered partner this
  month. More than 900 members signed up in two weeks.
ht 15:00 none | Staff | Turkey drive collects 30,000 meals
  Volunteers will deliver meals on Wednesday.
ht 19:00 none | Staff | Weather: dry and mild for Thanksgiving week
  Highs in the low 60s are expected.
bf 09:00Z crypto | Lena Hartmann | Bitcoin holds above $100,000 as week of milestones ends
  Bitcoin traded near $100,900 on Sunday after a week of ETF inflows, a bank charter and the first
  US IPO settled partly in a stablecoin.
bf 14:00+01:00 crypto | Tomasz Wrobel | European exchanges plan tokenised share trading after Bastion debut
  Two European exchanges said they will seek approval under the EU's DLT pilot regime to trade
  tokenised shares next year, with settlement in euro stablecoins.
bf 20:00+08:00 none | Wei Ling Tan | Memecoin launch platform hacked; $3 million drained
  The platform paused withdrawals after an attacker drained about $3 million from a hot wallet.
cl 10:00 rot | Omar Haddad | Opinion: the AI-to-crypto trade is just momentum with a new name
  Money moving from AI stocks into bitcoin says more about traders chasing returns than about
  either technology. When the AI trade cools, the crypto trade will too.
cl 12:30 ai | Hannah Price | Robotics startup shows warehouse robot handling 600 items an hour
  The company says the robot can replace a third of picking work in a typical warehouse, lifting
  productivity per worker by about 25%.
cl 14:30 none | Jae-won Park | Game of the week: a puzzle game about lighthouses
  Short, clever and cheap.
rl 11:00 ai+crypto | Anna Lindqvist | Sunday interview: a Frankfurt fund manager on AI, crypto and the ECB
  Helena Roth of Mainhafen Asset Management is underweight AI stocks, holds a small bitcoin
  position through a regulated ETP and expects two ECB rate cuts by March.
rl 14:30 none | Jonas Keller | Rhine cruise operators report record season
  Passenger numbers rose 9% this year.
rl 18:00 none | Jonas Keller | Weather: first frost for lowlands next week
  Night temperatures will fall to -3C.
"""


@dataclass(frozen=True)
class Item:
    """One story as written above, before serialisation."""

    outlet: Outlet
    day: str
    clock: str
    zone: timezone
    label: str
    flags: frozenset[str]
    author: str
    title: str
    html: str

    @property
    def when(self) -> datetime:
        """Publication time in the outlet's (or the item's own) time zone."""
        hour, minute = (int(x) for x in self.clock.split(":"))
        y, m, d = (int(x) for x in self.day.split("-"))
        return datetime(y, m, d, hour, minute, tzinfo=self.zone)

    @property
    def slug(self) -> str:
        """URL path segment made from the title."""
        words = re.sub(r"<[^>]*>", " ", self.title.lower())
        return re.sub(r"[^a-z0-9]+", "-", words).strip("-")[:80].rstrip("-")


_HEADER = re.compile(
    r"^(?P<code>[a-z]{2}) (?P<clock>\d\d:\d\d)(?P<zone>Z|[+-]\d\d:\d\d)? (?P<opts>\S+)"
    r" \| (?P<author>[^|]+?) \| (?P<title>.+)$"
)


def _zone(text: str | None, default: timezone) -> timezone:
    if not text:
        return default
    if text == "Z":
        return UTC
    sign = 1 if text[0] == "+" else -1
    return timezone(sign * timedelta(hours=int(text[1:3]), minutes=int(text[4:6])))


def parse_stories(text: str) -> list[Item]:
    """Read the story blocks into items, failing loudly on a malformed header."""
    items: list[Item] = []
    day = ""
    head: dict[str, str] | None = None
    body: list[str] = []

    def flush() -> None:
        if head is None:
            return
        outlet = OUTLETS[head["code"]]
        label, *flags = head["opts"].split(",")
        items.append(Item(outlet, day, head["clock"], _zone(head["zone"], outlet.tz), label,
                          frozenset(flags), head["author"], head["title"], " ".join(body)))

    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        if line.startswith("@ "):
            flush()
            head, body, day = None, [], line[2:].strip()
        elif line.startswith("  "):
            if head is None:
                raise SystemExit(f"line {n}: description without a header")
            body.append(line.strip())
        else:
            flush()
            match = _HEADER.match(line)
            if not match:
                raise SystemExit(f"line {n}: bad header: {line!r}")
            head, body = match.groupdict(), []
    flush()
    return items


_BARE_AMP = re.compile(r"&(?!#?\w+;)")


def html_fragment(text: str, curly: bool = True) -> str:
    """The hand-written description as HTML: bare '&' escaped, apostrophes typographic."""
    text = _BARE_AMP.sub("&amp;", text)
    if curly:
        # Only outside tags, so attribute quoting stays intact.
        text = re.sub(r"(^|>)([^<]*)", lambda m: m.group(1) + m.group(2).replace("'", "\u2019"), text)
    return text


def plain_text(text: str) -> str:
    """The description with tags dropped, for feeds that carry plain-text summaries."""
    return re.sub(r"<[^>]+>", "", text)


def rfc822(when: datetime, gmt: bool = False) -> str:
    """RSS date; 'GMT' spelled out when asked, as many publishers do."""
    return format_datetime(when.astimezone(UTC), usegmt=True) if gmt else format_datetime(when)


def rfc3339(when: datetime) -> str:
    """Atom date with the original offset (Z for UTC)."""
    text = when.isoformat()
    return text.replace("+00:00", "Z")


def section(item: Item) -> str:
    """Site section used in the item's URL."""
    label = item.label.split("+")[0]
    return {"ai": "technology", "crypto": "markets", "rot": "markets", "fed": "economy"}.get(label, "news")


def _cdata(html: str) -> str:
    assert "]]>" not in html
    return f"<![CDATA[{html}]]>"


def _channel_head(outlet: Outlet, items: list[Item], extra_ns: str = "") -> list[str]:
    last = max(i.when for i in items if "nodate" not in i.flags)
    return [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/" '
        f'xmlns:atom="http://www.w3.org/2005/Atom"{extra_ns}>',
        "<channel>",
        f"  <title>{escape(outlet.title)}</title>",
        f"  <link>{outlet.site}/</link>",
        f"  <description>{escape(outlet.description)}</description>",
        "  <language>en</language>",
        f"  <lastBuildDate>{rfc822(last + timedelta(minutes=5))}</lastBuildDate>",
        f'  <atom:link href="{outlet.site}/feed.xml" rel="self" type="application/rss+xml"/>',
        "  <ttl>30</ttl>",
    ]


def markets_wire(outlet: Outlet, items: list[Item]) -> bytes:
    """RSS 2.0, opaque guids, escaped HTML descriptions, tracking params, ASCII with char refs."""
    lines = _channel_head(outlet, items)
    for n, item in enumerate(items, start=1):
        w = item.when
        link = (f"{outlet.site}/{section(item)}/{w:%Y/%m/%d}/{item.slug}"
                "?utm_source=rss&utm_medium=feed")
        title = item.title.replace("'", "\u2019")
        lines += [
            "  <item>",
            f"    <title>{escape(title)}</title>",
            f"    <link>{escape(link)}</link>",
            f"    <description>{escape('<p>' + html_fragment(item.html) + '</p>')}</description>",
            f"    <dc:creator>{escape(item.author)}</dc:creator>",
            f"    <category>{section(item).title()}</category>",
            f'    <guid isPermaLink="false">mw-{w:%Y%m%d}-{n:04d}</guid>',
            f"    <pubDate>{rfc822(w)}</pubDate>",
            "  </item>",
        ]
    lines += ["</channel>", "</rss>", ""]
    # Declared utf-8 but written as ASCII: every curly quote and euro sign becomes a char ref.
    return "\n".join(lines).encode("ascii", "xmlcharrefreplace")


def harbourside_times(outlet: Outlet, items: list[Item]) -> bytes:
    """RSS 2.0 with content:encoded (CDATA), permalink guids only, dates in GMT."""
    ns = ' xmlns:content="http://purl.org/rss/1.0/modules/content/"'
    lines = _channel_head(outlet, items, ns)
    for n, item in enumerate(items, start=1):
        w = item.when
        desk = "local" if item.label == "none" and item.author == "Staff" else "business"
        link = f"{outlet.site}/{desk}/{w:%Y/%m/%d}/{item.slug}"
        guid_attr = ' isPermaLink="true"' if n % 2 else ""
        credit = "Meridian Wire" if "wire" in item.flags else "The Harbourside Times"
        body = (f"<p>{html_fragment(item.html)}</p>\n<p><em>&#169; 2026 {credit}.</em> "
                f'More from the <a href="{outlet.site}/{desk}/">{desk} desk</a>.</p>')
        lines += [
            "  <item>",
            f"    <title>{escape(item.title)}</title>",
            f"    <link>{link}</link>",
            f"    <description>{escape(plain_text(item.html).split('. ')[0].rstrip('.') + '.')}</description>",
            f"    <content:encoded>{_cdata(body)}</content:encoded>",
            f"    <dc:creator>{escape(item.author)}</dc:creator>",
            f"    <guid{guid_attr}>{link}</guid>",
            f"    <pubDate>{rfc822(w, gmt=True)}</pubDate>",
            "  </item>",
        ]
    lines += ["</channel>", "</rss>", ""]
    return "\n".join(lines).encode("utf-8")


def blockframe(outlet: Outlet, items: list[Item]) -> bytes:
    """Atom 1.0 with tag: ids, HTML summaries, mixed RFC 3339 offsets."""
    updated = max(i.when for i in items).astimezone(UTC)
    lines = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en">',
        f"  <title>{escape(outlet.title)}</title>",
        f"  <subtitle>{escape(outlet.description)}</subtitle>",
        "  <id>tag:blockframe.example,2024:/feed</id>",
        f'  <link rel="self" type="application/atom+xml" href="{outlet.site}/feed.atom"/>',
        f'  <link rel="alternate" type="text/html" href="{outlet.site}/"/>',
        f"  <updated>{rfc3339(updated)}</updated>",
        "  <author><name>BlockFrame Newsroom</name></author>",
    ]
    for n, item in enumerate(items, start=1):
        w = item.when
        link = f"{outlet.site}/news/{w:%Y-%m-%d}/{item.slug}"
        if n % 2:
            link += "?utm_source=rss&utm_medium=feed&utm_campaign=atom"
        edited = w + timedelta(minutes=25) if n % 5 == 0 else w
        term = "policy" if item.label == "crypto" else "markets"
        lines += [
            "  <entry>",
            f'    <title type="html">{escape(escape(item.title))}</title>',
            f'    <link rel="alternate" type="text/html" href="{escape(link)}"/>',
            f"    <id>tag:blockframe.example,{w:%Y-%m-%d}:/news/{item.slug}</id>",
            f"    <published>{rfc3339(w)}</published>",
            f"    <updated>{rfc3339(edited)}</updated>",
            f"    <author><name>{escape(item.author)}</name></author>",
            f'    <category term="{term}"/>',
            f'    <summary type="html">{escape("<p>" + html_fragment(item.html) + "</p>")}</summary>',
            "  </entry>",
        ]
    lines += ["</feed>", ""]
    return "\n".join(lines).encode("utf-8")


def circuit_ledger(outlet: Outlet, items: list[Item]) -> bytes:
    """RSS 2.0 without any guid (the link is the identity), CDATA HTML, Pacific time."""
    lines = _channel_head(outlet, items)
    for n, item in enumerate(items, start=1):
        w = item.when
        link = f"{outlet.site}/{w:%Y/%m/%d}/{item.slug}/"
        if n % 3:
            link += f"?utm_source=rss&utm_medium=feed&utm_campaign={section(item)}"
        more = f'<p><a href="{escape(link)}">Read the full story</a> on Circuit Ledger.</p>'
        lines += [
            "  <item>",
            f"    <title>{escape(item.title)}</title>",
            f"    <link>{escape(link)}</link>",
            f"    <description>{_cdata('<p>' + html_fragment(item.html) + '</p>' + more)}</description>",
            f"    <dc:creator>{escape(item.author)}</dc:creator>",
            f"    <pubDate>{rfc822(w)}</pubDate>",
            "  </item>",
        ]
    lines += ["</channel>", "</rss>", ""]
    return "\n".join(lines).encode("utf-8")


def rhine_ledger(outlet: Outlet, items: list[Item]) -> bytes:
    """RSS 2.0, plain-text descriptions, +0100 dates, one item without a pubDate."""
    lines = _channel_head(outlet, items)
    for n, item in enumerate(items, start=1):
        w = item.when
        story_id = 48000 + n * 7
        link = f"{outlet.site}/en/{section(item)}/{item.slug}-{story_id}.html"
        lines += [
            "  <item>",
            f"    <title>{escape(item.title)}</title>",
            f"    <link>{link}</link>",
            f"    <description>{escape(plain_text(item.html))}</description>",
            f"    <author>newsdesk@rhineledger.example ({escape(item.author)})</author>",
            f'    <guid isPermaLink="false">rl-{story_id}</guid>',
        ]
        if "nodate" not in item.flags:
            lines.append(f"    <pubDate>{rfc822(w)}</pubDate>")
        lines.append("  </item>")
    lines += ["</channel>", "</rss>", ""]
    return "\n".join(lines).encode("utf-8")


WRITERS = {
    "mw": markets_wire,
    "ht": harbourside_times,
    "bf": blockframe,
    "cl": circuit_ledger,
    "rl": rhine_ledger,
}


def main() -> None:
    """Write the five feeds and the intended-label table, then print a per-day count."""
    items = parse_stories(STORIES)
    by_outlet: dict[str, list[Item]] = {code: [] for code in OUTLETS}
    for item in items:
        by_outlet[item.outlet.code].append(item)
    labels: list[tuple[str, str, str, str]] = []
    for code, group in by_outlet.items():
        # Newest first, as publishers serve them; the undated item sits where it was written.
        group.sort(key=lambda i: i.when, reverse=True)
        outlet = OUTLETS[code]
        (OUT / outlet.file).write_bytes(WRITERS[code](outlet, group))
        for item in group:
            when = "" if "nodate" in item.flags else rfc3339(item.when.astimezone(UTC))
            labels.append((outlet.name, when, item.title, item.label))
    with (OUT / "intended_labels.csv").open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["feed", "published_utc", "title", "written_for"])
        writer.writerows(sorted(labels))
    per_label = Counter(lbl for _, _, _, lbl in labels)
    print(f"{len(items)} items; written for: {dict(sorted(per_label.items()))}")
    days = sorted({i.when.astimezone(UTC).date() for i in items if "nodate" not in i.flags})
    for code, group in by_outlet.items():
        counts = Counter(i.when.astimezone(UTC).date() for i in group if "nodate" not in i.flags)
        print(f"{code}: " + " ".join(str(counts.get(d, 0)) for d in days))


if __name__ == "__main__":
    main()
