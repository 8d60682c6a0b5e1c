"""Small built-in word lists shared by the text operators (general English, no dataset-specific rules).

Everything here is a ``frozenset`` or a plain mapping built once at import: constants, not state.
"""

from __future__ import annotations

__all__ = [
    "STOPWORDS",
    "MULTIWORD_PLACES",
    "STOP_CAPITALS",
    "MONTHS",
    "WEEKDAYS",
    "FIRST_NAMES",
    "PLACES",
    "ORGS",
    "ORG_SUFFIXES",
    "PLACE_SUFFIXES",
    "TITLES",
    "NUMBER_WORDS",
    "SAID_VERBS",
]


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


STOPWORDS = _words(
    """
    a about above after again against all almost also although always am among an and another any anybody
    anyone anything anyway are aren't around as at back be became because been before being below between
    both but by can can't cannot could couldn't did didn't do does doesn't doing don't done down during each
    either else enough even ever every everybody everyone everything few for from further get gets getting
    got gotten had hadn't has hasn't have haven't having he he'd he'll he's her here here's hers herself him
    himself his how how's however i i'd i'll i'm i've if in into is isn't it it's its itself just least less
    let let's like likely lot lots made make makes many may maybe me might mine more most much must mustn't
    my myself near need needs neither never no nobody none nor not nothing now of off often oh ok okay on once
    one only onto or other others otherwise ought our ours ourselves out over own per perhaps please quite
    rather really said same say says see seem seemed seems shall shan't she she'd she'll she's should
    shouldn't since so some somebody someone something sometimes somewhat soon still such sure than that
    that's the their theirs them themselves then there there's these they they'd they'll they're they've
    thing things this those though through thus till to too toward towards under until up upon us very via
    was wasn't way we we'd we'll we're we've well were weren't what what's whatever when when's where where's
    whether which while who who's whoever whole whom whose why why's will with within without won't would
    wouldn't yeah yes yet you you'd you'll you're you've your yours yourself yourselves also just got gonna
    wanna kinda sorta hey hi hello thanks thank lol wow yep nope hmm um uh ah haha
    """
)

MONTHS: dict[str, int] = {
    "january": 1, "jan": 1, "february": 2, "feb": 2, "march": 3, "mar": 3, "april": 4, "apr": 4,
    "may": 5, "june": 6, "jun": 6, "july": 7, "jul": 7, "august": 8, "aug": 8, "september": 9,
    "sep": 9, "sept": 9, "october": 10, "oct": 10, "november": 11, "nov": 11, "december": 12, "dec": 12,
}

WEEKDAYS: dict[str, int] = {
    "monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4, "saturday": 5, "sunday": 6,
}

NUMBER_WORDS: dict[str, int] = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "a couple of": 2, "a couple": 2,
    "couple of": 2, "a few": 3, "few": 3, "several": 3,
}

#: Capitalised words that are never (the start of) an entity name.
STOP_CAPITALS = _words(
    """
    I I'm I've I'd I'll Im Ive The A An And But Or So If Then When While Because Yes No Not Oh Ok Okay Hey Hi
    Hello Thanks Thank Yeah Yep Wow Lol Omg Haha Please Sorry Sure Well Also Just Really Maybe This That These
    Those There Here It It's Its He She They We You Your My Our His Her Their Me Him Them Us What Who Where Why
    How Which Whose Today Tomorrow Yesterday Tonight Now Last Next Every Each Some Any All Both Many Much More
    Most Great Good Nice Cool Awesome Amazing Congrats Congratulations Glad Happy Sounds Love Miss Dear Mom
    Dad Mum Mother Father Sister Brother Friend Mr Mrs Ms Dr Prof Sir Madam Christmas Easter Halloween
    Thanksgiving Weekend Morning Evening Night Afternoon OK LOL OMG BTW FYI TBH IMO ASAP AM PM
    """
) | frozenset(m.capitalize() for m in MONTHS) | frozenset(d.capitalize() for d in WEEKDAYS)

TITLES = _words("Mr Mrs Ms Miss Dr Prof Professor Sir Dame Lord Lady Uncle Aunt Auntie Grandma Grandpa Coach")

FIRST_NAMES = _words(
    """
    aaron abigail adam adrian aisha alan albert alex alexander alexandra alice alicia alison amanda amber amelia
    amy ana andrea andrew angela anna anne anthony antonio arthur ashley audrey ava barbara ben benjamin beth
    betty bill bob brandon brenda brian brittany bruce caleb cameron carl carla carlos carol caroline carolyn
    catherine charles charlie charlotte chloe chris christina christine christopher claire daniel david deborah
    debra dennis diana diane donald donna dorothy dylan edward elena elijah elizabeth ella ellen emily emma eric
    ethan eugene evan evelyn frank gabriel gary george gina grace greg gregory hannah harold harry heather helen
    henry isaac isabella jack jacob james jane janet jason jean jeff jeffrey jennifer jeremy jerry jessica jim
    joan joe john jonathan jordan jose joseph joshua joyce juan judith julia julie justin karen kate katherine
    kathleen kayla keith kelly kenneth kevin kim kyle larry laura lauren leo liam linda lisa logan lucas lucy
    luis luke madison margaret maria marie mark martha martin mary mason matthew megan melanie melissa mia
    michael michelle mike nancy natalie nathan nicholas nicole noah oliver olivia pamela patricia patrick paul
    peter rachel ralph raymond rebecca richard robert roger ronald rose ruth ryan sam samantha samuel sandra
    sara sarah scott sean sharon shirley sofia sophia stephanie stephen steve steven susan teresa thomas tim
    timothy tom tony tyler victoria vincent walter wayne william zachary zoe ahmed ali chen deepak fatima hiro
    jin li mei mohammed muhammad priya raj ravi wei yuki omar lena nina max tina jon dave joanna gina calvin
    """
)

PLACES = _words(
    """
    africa america asia europe australia antarctica usa uk us canada mexico brazil argentina chile peru
    colombia france germany spain portugal italy greece ireland scotland england wales netherlands belgium
    switzerland austria sweden norway denmark finland iceland poland russia ukraine turkey egypt morocco kenya
    nigeria india china japan korea vietnam thailand singapore indonesia philippines israel iran iraq pakistan
    london paris berlin madrid rome barcelona amsterdam vienna prague dublin lisbon athens munich zurich
    moscow tokyo kyoto osaka seoul beijing shanghai bangkok delhi mumbai sydney melbourne toronto vancouver
    montreal boston chicago seattle austin denver miami atlanta dallas houston portland phoenix detroit
    philadelphia brooklyn manhattan hawaii alaska california texas florida oregon washington colorado arizona
    nevada utah georgia virginia ohio michigan illinois massachusetts york jersey hollywood vegas orleans
    francisco angeles diego jose
    """
)

#: Multi-word places recognised as one name (normalised form).
MULTIWORD_PLACES = frozenset(
    {
        "new york", "new york city", "los angeles", "san francisco", "san diego", "las vegas", "new jersey",
        "new orleans", "hong kong", "new zealand", "united states", "united kingdom", "south africa",
        "north carolina", "south carolina", "rio de janeiro", "buenos aires", "mexico city", "salt lake city",
    }
)

ORGS = _words(
    """
    google alphabet microsoft apple amazon meta facebook netflix tesla spacex openai ibm intel nvidia amd
    oracle salesforce adobe uber lyft airbnb spotify twitter linkedin youtube instagram tiktok samsung sony
    nintendo toyota honda bmw walmart target costco starbucks mcdonald's nasa fbi cia unicef nato un who
    harvard stanford mit yale princeton oxford cambridge berkeley deloitte mckinsey accenture goldman
    jpmorgan paypal stripe shopify dropbox slack zoom github gitlab reddit pinterest snapchat
    """
)

ORG_SUFFIXES = _words(
    """
    inc inc. corp corporation co company ltd llc plc gmbh ag sa group labs lab university college school
    institute academy bank hospital clinic foundation association society agency council ministry department
    church museum studio studios press club team partners capital ventures technologies systems solutions
    """
)

PLACE_SUFFIXES = _words(
    """
    city town village county state province island islands river lake mountain mountains mount park beach
    street st avenue ave road rd bay valley canyon falls coast country kingdom republic
    """
)

#: Verbs of saying, asking, thinking and writing (lemmas): what they frame is reported, not the speaker's own deed.
SAID_VERBS = _words("say tell ask think write text reply answer announce")
