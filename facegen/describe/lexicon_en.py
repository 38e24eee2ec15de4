"""English words and phrases, by lemma (lower case; plurals and -ing / -ed / -er forms are
found by `lookup_word`). Multi-word entries are phrases matched before single words."""

from __future__ import annotations

from facegen.describe import lexicon as L
from facegen.describe.lexicon import (COPULA, FILLER, LINK, PLAIN, SLIGHT, VERY, Comparative, Degree, Entry,
                                      Negator, Position, S, Table, head, mod, person)

EN = Table()
add = EN.add

# ---- people, age ----------------------------------------------------------------------------
add(person("male"), "man", "male", "guy", "gentleman", "gent", "dude", "father", "dad", "husband",
    "brother", "son", "boyfriend", "mr", "fellow", "lad")
add(person("female"), "woman", "female", "lady", "gal", "mother", "mom", "mum", "wife", "sister",
    "daughter", "girlfriend", "mrs", "ms", "miss")
add(person("male", weak_gender=True), "he", "him", "his", "himself")
add(person("female", weak_gender=True), "she", "her", "hers", "herself")
add(person("male", "child"), "boy", "schoolboy")
add(person("female", "child"), "girl", "schoolgirl")
add(person("male", "middle"), "uncle")
add(person("female", "middle"), "aunt", "auntie")
add(person("male", "senior"), "grandfather", "grandpa", "granddad", "grandad")
add(person("female", "senior"), "grandmother", "grandma", "granny", "grannie")
add(person(age="child", weak_age=False), "child", "kid", "toddler", "baby", "infant", "youngster")
add(person(age="teen", weak_age=False), "teen", "teenager", "adolescent", "teens", "youth", "teenage",
    "teenaged", "high schooler")
add(person(age="twenties", weak_age=False), "twenties", "20s", "twenty-something", "twentysomething")
add(person(age="thirties", weak_age=False), "thirties", "30s", "thirty-something", "thirtysomething")
add(person(age="middle", weak_age=False), "forties", "40s", "fifties", "50s", "middle-aged", "middle aged",
    "middle age", "midlife")
add(person(age="senior", weak_age=False), "sixties", "60s", "seventies", "70s", "eighties", "80s",
    "nineties", "90s", "senior", "pensioner", "retiree", "elder")
add(person("male", "senior"), "old man", "old gentleman")
add(person("female", "senior"), "old woman", "old lady")
add(head("age"), "age")
add(L.YOUNG, "young", "youthful", "younger", "young-looking", "boyish", "girlish")
add(L.OLD, "old", "elderly", "aged", "older", "old-looking", "ageing", "aging")
add(L.CHILDLIKE, "childlike", "little")

# ---- face, jaw ------------------------------------------------------------------------------
add(head("face"), "face", "visage", "features", "feature", "face shape", "profile", "facial")
add(head("jaw"), "jaw", "jawline", "chin", "jaws")
add(head("cheeks"), "cheek", "apple cheeks")
add(head("cheekbones"), "cheekbone", "cheek bone")
add(head("forehead"), "forehead", "temple", "brow line")
add(head("hairline"), "hairline", "hair line")
add(head("hairline", S("hairline", "widows_peak")), "widow peak", "widows peak", "widow's peak")
add(L.RECEDING, "receding", "recede", "receded")
add(L.M_SHAPED, "m-shaped", "m shaped")
add(head("ears"), "ear", "earlobe", "ear lobe")
add(L.OVAL, "oval", "egg-shaped", "egg shaped", "oval-shaped")
add(L.ROUND, "round", "rounded", "moon")
add(mod(default="face", face=S("face_shape", "round")), "round-faced")
add(L.SQUARE, "square", "squared", "angular", "boxy", "square-jawed", "chiselled", "chiseled")
add(L.HEART, "heart-shaped", "heart shaped", "heart")
add(L.V_SHAPE, "v-shaped", "v shaped", "v-line", "v line", "tapered", "triangular")
add(L.POINTED, "pointed", "pointy", "sharp")
add(L.CHUBBY, "chubby", "plump-faced", "fleshy", "puffy", "fat", "overweight", "heavyset", "stocky", "chunky")
add(head("cheeks", S("cheek_fullness", PLAIN)), "double chin", "double chins", "jowls")
EN.words["sharp"] = L.vary(L.sharp_look("sharp"), nose=S("nose_length", L.SLIGHT), jaw=S("face_shape", "v"))
add(L.WIDE, "wide", "broad", "strong")
add(L.NARROW, "narrow", "weak")

# ---- hair -----------------------------------------------------------------------------------
add(head("hair"), "hair", "haircut", "hairstyle", "hairdo", "locks", "mane")
add(head("hair", S("hair_style", "bowl")), "bowl cut", "bowl", "bowl haircut", "pudding bowl", "mushroom cut",
    "bowl-cut")
add(head("hair", S("hair_style", "bob")), "bob", "bob cut", "bobbed", "lob")
add(head("hair", S("hair_style", "buzz")), "buzz cut", "buzzcut", "buzz", "crew cut", "crewcut", "skinhead",
    "shaved head", "shaven head", "buzzed", "military cut", "shaved",
    *(f"{verb} {whose} head" for verb in ("shave", "shaved") for whose in ("his", "her", "their", "the", "my")))
add(head("hair", S("hair_style", "short"), S("hair_length", -PLAIN)), "pixie cut", "pixie", "crop", "short hair")
add(head("hair", S("hair_style", "long"), S("hair_length", PLAIN)), "long hair")
add(head("hair", S("hair_style", "bald")), "bald head", "baldness", "baldy")
add(head("hair", S("hair_style", "curly")), "curls", "perm", "afro", "ringlets", "permed", "frizz")
add(head("hair", S("hair_style", "wavy")), "waves")
add(head("hair", S("hair_style", "ponytail")), "ponytail", "pony tail", "pony-tail", "pigtail", "braid", "plait")
add(head("hair", S("hair_style", "bun")), "bun", "topknot", "top knot", "updo", "chignon", "man bun")
add(head("hair", S("hair_style", "side_part")), "side part", "side parting", "side-part", "side-parted",
    "parted", "part", "parting", "comb-over", "combover")
add(head("hair", S("hair_style", "bangs")), "bangs", "fringe", "bang")
add(head("hair", S("hair_colour", "blond")), "blondes")
add(head("hair", S("hair_colour", "brown")), "brunette", "brunet")
add(head("hair", S("hair_colour", "red")), "redhead")
add(L.CURLY, "curly", "curled", "frizzy", "kinky", "coily")
add(L.WAVY, "wavy", "waved")
add(L.STRAIGHT, "straight", "sleek", "silky", "thick-haired")
add(L.BALD, "bald", "balding", "hairless")
add(L.TIED_BACK, "tie", "tied", "tied-back", "pulled back", "tied back", "slicked back")
add(L.CROPPED, "cropped", "close-cropped", "short-haired", "shorn", "clipped")
add(L.HAIR_MEDIUM_LENGTH, "shoulder-length", "shoulder length", "medium-length", "medium length",
    "chin-length", "mid-length", "shoulder")
add(L.HAIR_VERY_LONG, "waist-length", "waist length", "long-haired", "flowing")

# ---- colours --------------------------------------------------------------------------------
add(L.WHITE, "white", "snow-white", "snowy")
add(L.BLACK, "black", "jet-black", "raven", "jet black")
add(L.DARK, "dark", "darker")
add(L.FAIR, "fair", "fair-haired", "golden")
add(L.PALE, "light", "porcelain", "ivory", "lighter")
add(L.PALE_PERSON, "pale", "pasty", "fair-skinned", "light-skinned", "pale-skinned")
add(L.TAN, "tan", "tanned", "bronzed", "suntanned", "sun-tanned", "sunburnt", "sunburned", "sun-kissed",
    "weathered", "tanned-looking", "copper", "bronze")
add(L.DARK_SKIN, "dark-skinned", "ebony", "swarthy")
add(L.MEDIUM_SKIN, "medium", "olive", "beige", "medium-toned", "average", "moderate", "caramel", "honey")
add(L.BROWN, "brown", "chestnut", "auburn-brown", "mousy", "mousey", "hazel")
add(L.BLOND, "platinum", "sandy", "strawberry-blond", "flaxen", "yellow", "blonde", "blond")
add(L.BLUE, "blue", "ice-blue", "sky-blue", "azure")
add(L.GREEN, "green", "emerald", "jade")
add(L.HAZEL, "hazel")
# ginger: red hair, or a red beard; alone, a redhead
add(mod(default="hair", hair=S("hair_colour", "red"), beard=S("beard_colour", "red")), "ginger")
add(L.RED, "red", "auburn", "copper-red", "reddish", "ginger-haired", "red-haired", "fiery", "orange")
add(L.GREY, "grey", "gray", "silver", "greying", "graying", "salt-and-pepper", "salt and pepper", "grizzled",
    "silvery", "grey-haired", "gray-haired", "white-haired", "silver-haired", "hoary")

# ---- eyes, brows ----------------------------------------------------------------------------
add(head("eyes"), "eye", "gaze", "eyeball", "eye colour", "eye color", "eyed", "eyelid", "lid")     # eyed: blue-eyed
add(head("eye_corners"), "eye corner", "outer corner of the eye", "corners of the eyes")
add(head("eye_spacing"), "space between the eyes", "distance between the eyes", "spacing", "eye spacing")
add(head("corners"), "corner")
add(head("double_eyelid"), "double eyelid", "double eyelids", "double-lidded", "eyelid crease", "crease")
add(head("double_eyelid", S("double_eyelid", False)), "monolid", "monolids", "single eyelid", "single eyelids",
    "hooded", "single-lidded")
add(head("brows"), "brow", "eyebrow", "eye brow")
add(L.UP, "up", "upward", "upwards", "upturned", "uptilted", "upswept", "turned-up", "cat-like", "catlike",
    "slanted", "slanting", "raised", "rise", "lift", "lifted", "tilted up")
add(mod(eyes=(), quiet=True), "almond", "almond-shaped")
add(L.DOWN, "down", "downward", "downwards", "downturned", "down-turned", "turned-down", "lower", "lowered")
add(L.DROOPY, "droopy", "drooping", "droop", "sleepy", "sad-looking", "sagging", "hang", "puppy", "puppy-dog",
    "hangdog", "heavy-lidded")
add(L.NARROW_EYES, "squinty", "squinting", "beady", "slit", "slitted")
add(L.WIDE_SET, "wide-set", "wide set", "far apart", "far-apart", "widely spaced", "wide-spaced", "far-set")
add(L.CLOSE_SET, "close-set", "close set", "close together", "close-together", "closely spaced", "close")
add(L.THICK, "thick", "heavy", "bold", "full-bodied", "dense", "strong-browed")
add(L.ROUGH, "bushy", "shaggy", "scruffy", "unkempt", "messy", "wild", "untidy", "straggly", "overgrown",
    "tousled", "disheveled", "dishevelled", "rough", "ragged")
add(L.LIGHT_BROWS, "sparse", "faint", "thin-browed", "plucked", "arched-thin")
add(L.ARCHED, "arched", "arch", "curved", "high-arched", "arching")
add(L.ANGLED, "angled", "peaked")

# ---- nose, mouth ----------------------------------------------------------------------------
add(head("nose"), "nose", "bridge", "nostril", "nose bridge", "nose tip", "tip")
add(L.HIGH, "high", "high-bridged", "tall", "defined", "roman", "greek", "aquiline")
add(L.LOW, "low", "low-bridged", "low-set")
add(L.FLAT, "flat", "flat-bridged", "flattened", "level")
add(L.SNUB_NOSE, "snub", "stubby", "snub-nosed")
add(L.PROTRUDING, "protruding", "protrude", "bulging", "bulge", "bulgy", "prominent", "pronounced", "stick out",
    "sticking out", "stuck out", "sticky-out", "jutting", "pop-eyed", "bug-eyed")
add(L.HOOKED_NOSE, "hooked", "hook", "beaked", "crooked")
add(L.BULBOUS_NOSE, "bulbous", "fleshy-tipped", "knobbly", "potato")
add(L.BUTTON_NOSE, "button", "cute-button")
add(head("mouth"), "mouth", "mouth shape")
add(head("lips"), "lip", "upper lip", "lower lip")
add(head("mouth_corners"), "mouth corner", "corners of the mouth", "corner of the mouth", "mouth-corners")
add(head("smile"), "smile", "grin", "smirk", "beam")
add(L.BIG, "big", "large", "generous", "wide-open", "sizable", "sizeable", "open", "prominent-eyed")
add(L.HUGE, "huge", "enormous", "giant", "massive", "very big", "oversized", "gigantic")
add(L.SMALL, "small", "smallish", "petite", "delicate", "dainty", "little-ish")
add(L.TINY, "tiny", "minuscule", "miniature", "teeny")
add(L.LONG, "long", "elongated", "lengthy", "longish")
add(L.SHORT, "short", "shortish", "stumpy")
add(L.FULL, "full", "plump", "pouty", "luscious", "lush", "puffy-lipped", "fleshy-lipped", "thick-lipped")
add(L.THIN, "thin", "slim", "slender", "narrow-faced", "gaunt", "lean", "skinny", "thin-lipped")
add(L.SUNKEN, "hollow", "sunken", "hollowed", "sunk")

# ---- skin, wrinkles -------------------------------------------------------------------------
add(head("skin"), "skin", "complexion", "skin tone", "tone", "skintone", "skin colour", "skin color", "colouring",
    "coloring")
add(head("wrinkles"), "wrinkle", "line", "crease", "crow feet", "crows feet", "crow's-feet", "laugh line",
    "frown line", "furrow", "wrinkling")
add(L.WRINKLED, "wrinkled", "wrinkly", "lined", "creased", "furrowed", "craggy", "leathery")
add(L.SMOOTH, "smooth", "unlined", "wrinkle-free", "youthful-skinned", "flawless", "clear")
EN.words["wrinkle-free"] = mod(default="wrinkles", wrinkles=L.ABSENT, skin=S("wrinkles", 0.0),
                               face=S("wrinkles", 0.0))
add(L.DEEP, "deep", "deep-set", "deeply")
add(L.FINE, "fine", "faint-lined", "slight-lined")
add(L.MANY, "many", "lots", "plenty", "numerous")
add(head("freckles"), "freckle")
add(head("dimples"), "dimple")
add(head("moles"), "mole", "beauty mark", "beauty spot", "birthmark", "beauty-mark", "beauty-spot", "birth mark")
add(head("scars"), "scar", "scarring", "gash")
add(L.FRECKLED, "freckled", "freckly", "freckle-faced")
add(L.SCARRED, "scarred", "scar-faced")
add(L.DIMPLED, "dimpled")

# ---- beard, glasses -------------------------------------------------------------------------
add(head("beard"), "beard", "facial hair", "sideburn", "mutton chops", "muttonchops", "whisker", "chin beard")
add(head("beard", S("beard", "moustache")), "moustache", "mustache", "'stache", "stache", "mustachio",
    "handlebar", "handlebar moustache", "handlebar mustache", "pencil moustache", "pencil mustache")
add(head("beard", S("beard", "goatee")), "goatee", "van dyke", "soul patch", "chin tuft")
add(head("beard", S("beard", "stubble")), "stubble", "five o'clock shadow", "five-o'clock shadow",
    "5 o'clock shadow", "shadow", "scruff")
add(L.STUBBLY, "stubbly", "unshaven", "unshaved", "bristly", "scratchy")
add(head("beard"), "bearded", "bewhiskered")     # a noun, so red-bearded is a red beard
add(L.TIDY, "neat", "neatly", "trimmed", "groomed", "well-groomed", "tidy", "tidily", "well-kept",
    "manicured", "clipped-neat", "short-trimmed", "kempt", "sculpted", "well-trimmed")
EN.words["neat"] = mod(impression="neat", beard=S("beard_tidy", True), hair=(), brows=())
add(L.SHAVE, "clean-shaven", "clean shaven", "shaven", "beardless", "shave", "smooth-shaven",
    "clean-cut", "shave off", "cut off")
add(head("glasses"), "glasses", "spectacles", "specs", "eyeglasses", "sunglasses", "shades", "eyewear",
    "frames", "monocle", "glass")
add(L.BESPECTACLED, "bespectacled", "spectacled", "four-eyed")
add(mod(glasses=(), quiet=True), "rimmed", "thick-rimmed", "horn-rimmed", "wire-rimmed", "rimless", "round-rimmed",
    "framed", "tortoiseshell", "wire-framed", "metal-framed")
add(L.HAVE, "wear", "wearing", "have", "has", "having", "sport", "sporting", "grow", "add", "put on", "give",
    "with", "rock", "don", "got", "own", "keep", "bring", "bring back")
add(L.LACK, "remove", "take off", "get rid of", "lose", "drop", "free", "erase", "delete", "ditch",
    "take away")
add(FILLER, "with")

# ---- expression -----------------------------------------------------------------------------
add(L.SMILING, "smiling", "grinning", "beaming", "smiley", "smiles", "laughing", "laugh", "smirking")
EN.words["smile"] = head("smile")
add(L.FROWNING, "frowning", "frown", "scowling", "scowl", "grimacing", "grimace", "pouting", "sulky", "glum")
add(L.EXPRESSIONLESS, "expressionless", "blank", "neutral", "deadpan", "straight-faced", "poker-faced",
    "unsmiling")

# ---- degrees, negation, comparison ----------------------------------------------------------
add(Degree(SLIGHT), "slightly", "slight", "a bit", "a little", "a touch", "somewhat", "kind of", "sort of",
    "kinda", "sorta", "mildly", "faintly", "lightly", "little bit", "a tad", "tad", "gently", "partly",
    "subtly", "barely", "some", "few", "a few", "moderately", "softly")
add(Degree(0.85), "quite", "rather", "fairly", "pretty", "noticeably", "clearly", "distinctly")
add(Degree(VERY), "very", "really", "extremely", "super", "so", "too", "strongly", "highly", "incredibly",
    "exceptionally", "remarkably", "heavily", "a lot", "a lot of", "lots of", "much", "way", "totally",
    "completely", "seriously", "severely", "deeply", "intensely", "big-time", "broadly", "widely", "hugely",
    "especially", "unusually")
add(Comparative(1), "more", "bit more", "even")
add(Comparative(-1), "less", "fewer", "reduce", "decrease", "tone down", "soften")
add(Negator("next"), "not", "n't", "never", "hardly", "nt", "non", "stop", "quit", "stops", "stopped")
add(Negator("prev_head"), "off")
add(Negator("head"), "no", "without", "none", "zero", "lack", "lacking", "minus", "sans", "nor")
add(COPULA, "is", "are", "was", "were", "be", "been", "being", "look", "looks", "looked", "looking", "seem",
    "seems", "appear", "appears", "feel", "feels", "'s", "'re", "get", "gets", "getting", "turn", "turns",
    "turned", "turning", "become", "becomes", "curve", "curves", "curving", "slant", "slants", "point",
    "points", "tilt", "tilts", "go", "goes", "make", "makes", "stay", "stays", "remain")

# ---- fillers --------------------------------------------------------------------------------
add(LINK, "and", "shape", "shaped", "style", "styled", "type", "colored", "coloured", "color", "colour",
    "toned", "-looking", "set", "looking")
add(FILLER, "a", "an", "the", "their", "its", "my", "your", "our", "this", "that", "these", "those", "of", "to",
    "for", "from", "as", "who", "whom", "whose", "which", "what", "has", "have", "had", "do", "does", "did",
    "person", "someone", "somebody", "people", "one", "appearance", "also", "both", "each", "any", "where", "when",
    "then", "just", "probably", "maybe", "perhaps", "like", "year", "years", "old-ish", "about", "roughly",
    "approximately", "aged", "i", "me", "we", "us", "it", "they", "them", "there", "here", "please", "can", "could",
    "would", "will", "should", "want", "wants", "show", "draw", "create", "generate", "picture", "portrait",
    "image", "photo", "very", "but", "or", "yet", "while", "though", "although", "overall", "generally", "usually",
    "typical", "typically", "slight", "outer", "inner", "upper", "lower", "edge", "side", "sides", "either", "into",
    "onto", "out", "up", "take", "than", "other", "another", "same", "expression", "look", "vibe", "impression",
    "air", "aura", "sort", "bit", "lot", "tad", "touch", "if", "within", "toward", "towards", "back", "front",
    "top", "bottom", "middle", "center", "centre", "well", "all", "change", "let", "something", "ish", "yr", "yrs",
    "together", "almost", "nearly", "early", "late", "mid", "covered", "framed-by", "left", "right", "suspect",
    "witness", "at all", "except", "saw", "see", "seen", "noticed", "remember", "recall", "think", "thought",
    "guess", "say", "said", "described", "couple", "a couple of", "several", "pair", "visible", "noticeable",
    "obvious", "small-ish")
# position words tie a mark to its place (a mole under her eye); they are never directions
add(Position(below=True), "under", "below", "beneath", "underneath")
add(Position(), "above", "over", "on", "by", "near", "beside", "next to", "close to", "around", "across", "at",
    "along", "through", "between", "in", "next", "running down", "running across", "running through",
    "running along", "across from")
EN.words.update({w: e for w, e in (("up", L.UP), ("little", L.CHILDLIKE), ("quite", Degree(0.85)),
                                   ("slight", Degree(SLIGHT)), ("very", Degree(VERY)), ("look", COPULA),
                                   ("aged", FILLER), ("has", L.HAVE), ("have", L.HAVE), ("lower", L.DOWN))})

# ---- impressions ----------------------------------------------------------------------------
EN.impressions(
    "kind", "kindly=kind", "gentle", "honest", "trustworthy", "trusty=trustworthy", "reliable", "dependable",
    "friendly", "warm", "healthy", "sincere", "diligent", "hardworking", "hard-working=hardworking",
    "old-fashioned", "dorky", "nerdy", "geeky", "cute", "handsome", "beautiful", "pretty", "attractive",
    "intelligent", "smart", "clever", "tough", "stern", "serious", "cold", "mean", "scary", "menacing",
    "innocent", "calm", "cheerful", "confident", "elegant", "rugged", "charismatic", "mysterious", "soft",
    "shy", "lively", "sad", "tired", "wise", "nice", "sweet", "approachable", "stylish", "fashionable",
    "plain", "ordinary", "grumpy", "angry", "happy", "good-natured", "good natured=good-natured",
    "kind-hearted", "kindhearted=kind-hearted", "warm-hearted", "caring", "gentle-looking=gentle", "mild",
    "harsh", "fierce", "cool", "relaxed", "intense", "determined", "proud", "arrogant", "dignified", "noble",
    "sophisticated", "refined", "classy", "boyish-charm", "sporty", "athletic", "strong-willed", "stubborn",
    "playful", "mischievous", "naive", "dreamy", "thoughtful", "pleasant", "benevolent", "humble", "modest",
    "simple", "dull", "dowdy", "frumpy", "unfashionable", "decent", "respectable", "credible",
    "believable", "upright", "earnest", "faithful", "loyal", "sturdy", "robust", "fit", "vigorous",
    "energetic", "fresh", "clean", "soft-spoken", "polite", "bright", "radiant", "lovely",
    "good-looking", "gorgeous", "ugly", "homely", "awkward", "nervous", "anxious", "worried", "suspicious",
    "shifty", "sly", "cunning", "evil", "villainous", "heroic", "brave", "bold-looking", "strict",
)
EN.words["bright"] = mod(impression="bright", skin=S("skin_tone", "fair"), hair=S("hair_colour", "blond"))
EN.words["clean"] = mod(impression="clean", beard=S("beard_tidy", True), skin=S("wrinkles", 0.0))
EN.words["soft"] = mod(impression="soft", hair=(), skin=(), beard=())
EN.words["strong"] = mod(impression="strong", jaw=S("jaw_width", PLAIN), brows=S("brow_thickness", PLAIN),
                         nose=S("nose_size", L.SLIGHT))
EN.words["happy"] = mod(impression="happy", default=None, smile=S("smile", PLAIN), face=S("smile", PLAIN))
# impressions whose look is known
for word in ("fierce", "piercing", "steely", "sharp-eyed", "hawk-eyed"):
    EN.words[word] = L.sharp_look(word)
for word in ("serious", "stern", "solemn", "grave", "serious-looking"):
    EN.words[word] = L.serious_look(word)

NUMBER_WORDS = {"zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
                "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14,
                "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20,
                "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90}


def _undouble(stem: str) -> str:
    return stem[:-1] if len(stem) > 2 and stem[-1] == stem[-2] and stem[-1] not in "aeiouls" else stem


def lemma_candidates(word: str) -> list[tuple[str, bool]]:
    """(candidate lemma, is a comparative) in the order to try: the word, then stripped forms."""
    out = [(word, False)]
    if word.endswith("ies") and len(word) > 4:
        out.append((word[:-3] + "y", False))
    if word.endswith("es") and len(word) > 3:
        out.append((word[:-2], False))
    if word.endswith("s") and not word.endswith("ss") and len(word) > 2:
        out.append((word[:-1], False))
    if word.endswith("ing") and len(word) > 5:
        stem = word[:-3]
        out += [(stem, False), (stem + "e", False), (_undouble(stem), False)]
    if word.endswith("ed") and len(word) > 4:
        stem = word[:-2]
        out += [(stem, False), (word[:-1], False), (_undouble(stem), False)]
    if word.endswith("ier") and len(word) > 4:
        out.append((word[:-3] + "y", True))
    if word.endswith("er") and len(word) > 4:
        stem = word[:-2]
        out += [(stem, True), (stem + "e", True), (_undouble(stem), True)]
    if word.endswith("ly") and len(word) > 4:
        out.append((word[:-2], False))
    return out


def lookup_word(word: str) -> Entry | None:
    entry, _ = lookup_with_form(word)
    return entry


def lookup_with_form(word: str) -> tuple[Entry | None, bool]:
    """The entry for one lower-case word, and whether it was a comparative (bigger → big)."""
    for candidate, comparative in lemma_candidates(word):
        if candidate in EN.words:
            return EN.words[candidate], comparative
    return None, False
