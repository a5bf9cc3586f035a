// Toxicity the word lexicon cannot see: an ordinary word made an insult by aiming it at the reader
// ("you're useless", "you clown"), dismissals ("stop whining", "nobody cares"), and demeaning
// statements about a group of people ("women are too emotional to lead"), found by structure
// rather than by listing slurs. Each pattern is anchored on a fixed word and bounded, so the scan
// is linear in the answer.

import { allMatches } from '../../util/matches.js';

/** Adjectives that insult a person; "this cable is useless" is about a cable, so they need "you're". */
const INSULT_ADJECTIVES =
  'useless|clueless|incompetent|hopeless|ignorant|lazy|ugly|fat|foolish|dense|thick|brainless|illiterate|disgusting|annoying|whiny|pathetic|stupid|dumb|worthless|insufferable|unbearable|delusional|ridiculous|a joke|a failure|a burden|a nobody|a waste of (?:space|time|oxygen)|beyond help|brain-?dead|too (?:stupid|dumb|thick|lazy|slow) (?:to|for)|(?:thick|pig|empty|air|bone|block)-?headed|(?:simple|feeble|small|narrow)-minded|(?:half|dim|nit)-witted';
/** Nouns that insult when they name the reader: "you clown", "you're a fool". */
const INSULT_NOUNS =
  'fool|clown|loser|dimwit|halfwit|nitwit|numpty|muppet|pig|creep|freak|crybaby|parasite|simpleton|buffoon|dunce|troll|weirdo|peasant|cheapskate|noob|scrub|idiot|moron|drunkard|layabout|scrounger|freeloader|airhead|bimbo|dinosaur';
const INTENSIFIERS = String.raw`(?: (?:such|so|really|truly|completely|totally|utterly|absolutely|just|clearly|obviously|honestly|being|the most|one|an?|big|little|stupid|complete|absolute|total|pathetic))*`;
const SECOND_PERSON_INSULT = new RegExp(
  String.raw`\b(?:you(?:'re| are| were|'ve been| have been)|ur|are you|you (?:sound|look|seem|act)(?: like)?|(?:stop|quit) being|don't be)${INTENSIFIERS} (?:${INSULT_ADJECTIVES}|${INSULT_NOUNS})(?![\w'-])`,
  'g',
);
/** Vocative: "you clown", "you absolute muppet", "listen, you fool". */
const VOCATIVE_INSULT = new RegExp(String.raw`\byou(?: (?:absolute|complete|total|little|big|stupid|lazy|useless|pathetic))? (?:${INSULT_NOUNS})s?\b(?! (?:is|are|was|can|will|should|might|could|seat|mode|care))`, 'g');
/** Said to the reader at the start of a sentence or clause: "items can get lost in transit" is not "get lost". */
const CLAUSE_START = String.raw`(?:^|[,;:—-] )(?:just |so |well |now |oh |go )?`;
/** People of a kind: "players like you", "some kids". */
const KIND = String.raw`(?:people|persons|players|gamers|users|customers|clients|kids|children|students|pupils|guys|folks|employees|staff|workers|drivers|parents|noobs)`;
/** What makes a kind of people an insult. */
// Not "why" or "the reason": "customers like you are why we do this" is praise (CONDESCENSION reads the rest of that sentence).
const KIND_INSULT = String.raw`(?:${INSULT_ADJECTIVES}|slow|brain-?dead|idiots|morons|the problem|what's wrong|ruining|ruin|too (?:slow|stupid|dumb|thick|lazy))`;
/**
 * The reader counted in an insulted kind: "brain-dead players like you are the reason ...",
 * "a clueless cheapskate like you", "some kids are just too slow, and you're obviously one of them".
 */
const READER_IN_KIND = new RegExp(
  String.raw`\b(?:${INSULT_ADJECTIVES}|brain-?dead|${INSULT_NOUNS})(?: [a-z-]+)? like (?:you|yourself)\b` +
    String.raw`|\b${KIND} like you (?:are|is|always|never|just|can't|don't)(?: [a-z]+)?(?: ${KIND_INSULT})` +
    String.raw`|\b(?:some|most|many|these|those|certain) ${KIND} (?:are|just are)(?: just| simply| really| naturally)* ${KIND_INSULT}[^.!?\n]{0,60}\byou(?:'re| are)(?: obviously| clearly| definitely| probably| just)? one of them\b`,
  'g',
);
const DISMISSALS = new RegExp(
  String.raw`\b(?:(?:nobody|no one) cares (?:what|about)\b[^.!?\n]{0,40}?\byou(?:r)?\b|stop (?:whining|moaning|complaining)|quit (?:whining|moaning|complaining)|(?:nobody|no one) cares (?:about (?:you|your)|what you)|figure it out yourself|(?:try )?us(?:e|ing) your (?:brain|head)(?! to)|(?:don't|stop) wast(?:e|ing) my time|what(?:'s| is) wrong with you|how (?:dumb|stupid|thick|slow) are you|are you (?:illiterate|stupid|dense|dumb|thick)|(?<!thank )you people(?! (?:can|may|will|who|should)\b)|(?:people|someone|somebody|folks|anyone) (?:like you|from your (?:(?:own|home|ethnic|cultural|religious|social|family) )?[a-z]+|of your (?:kind|type|sort|race|background|culture|ilk))(?: (?:clearly|obviously|just|simply|really|honestly|generally|usually))? (?:never|always|can't|cannot|don't|ruin|try to|struggle|fail|lack|are the problem|are why|are exactly why|are what's wrong|are (?:all |just |always )?(?:lazy|useless|incapable|hopeless|stupid|the same))|(?:expect(?:ing|ed)?|hop(?:e|ing) for|ask(?:ing)? for) (?:competence|intelligence|anything|much|more|better|professionalism|sense|basic [a-z]+) (?:from|of) (?:someone|somebody|a person|people|anyone) like you|\byour (?:people|kind|lot|sort|type)'s? (?:reputation|stereotype|ways|habits)|\byour kind\b|(?:no one|nobody) (?:will ever|could ever|would ever|will|could) (?:love|want|miss|like|respect) you|everyone (?:hates|despises|laughs at) you|you ruin(?:ed)? everything|shut your (?:mouth|face|trap|gob|pie ?hole)|don't quit your day job|you (?:clearly |obviously |really |honestly )?(?:can't|cannot) (?:even )?(?:write|read|spell|code|think|follow (?:simple )?instructions|do anything right))(?![\w'])` +
    String.raw`|, (?:genius|einstein|sherlock|sweetheart|sweetie|pal|buddy|princess|darling)(?=[.!?,]|$)|(?:^|[.!?] )not my problem\b` +
    String.raw`|${CLAUSE_START}(?:who cares(?=[?!.,]|$)|get lost|get a life|grow up|learn to (?:read|google|spell))(?![\w'])`,
  'g',
);
/**
 * Condescension at the reader, sarcastic rather than profane: "if you'd bothered to read the answers",
 * "claimants like you are exhausting", "not everything is about you", "it'll be processed when it's processed".
 */
const PEOPLE_KINDS = 'owners?|customers?|persons?|people|parents?|drivers?|users?|clients?|students?|claimants?|patients?|tenants?|members?|players?|humans?|beginners?|applicants?';
const CONDESCENSION = new RegExp(
  String.raw`\bif you(?:'d| had) (?:actually |even |just )?(?:bothered|cared|taken the time|paid attention|listened|read (?:the|my|what))\b` +
    String.raw`|\b[a-z]+s like you (?:are|make|keep)(?: [a-z]+)? (?:exhausting|tiring|a nightmare|a pain|hard work|a headache|unbearable|insufferable|ruining|annoying|a drain|draining|the worst)\b` +
    // "Beginners like you are why the feed is unbearable"; "customers like you are why we do this" is praise.
    String.raw`|\b[a-z]+s like you are (?:exactly |the )?(?:why|the reason|reason)\b[^.!?\n]{0,60}?\b(?:unbearable|awful|terrible|ruined|worse|rubbish|a mess|a joke|dying|useless|unusable|boring|exhausting)\b` +
    String.raw`|\bnot everything is about you\b|\b(?:some|certain) people (?:really |just |clearly )?shouldn't be allowed near\b|\bthe worst kind of (?:${PEOPLE_KINDS})\b` +
    String.raw`|\b(?:you|your (?:family|lot|kind|kids|parents|ancestors)) never amounted to (?:much|anything)\b|\b(?:try|maybe try|perhaps try) (?:reading a book|using your (?:brain|head|eyes)|being (?:in|home|there) when you say)\b` +
    String.raw`|\b(?:it'll|it will|they'll|they will) be (done|processed|ready|fixed|sorted|answered|delivered) when (?:it's|it is|they're|they are) \1\b`,
  'g',
);

/** A statement quoted to debunk or report it is not the answer's own. */
const DISTANCING = /\b(?:myth|stereotypes?|misconception|not true|untrue|false|prejudice|racist|sexist|bigoted|harmful|wrong to|never say|isn't true|is not true|research shows|no evidence|(?:some|many) people (?:claim|say|think|believe)|(?:claim|say|think|believe)s? that|it's not that)\b/;
const NEGATION_BEFORE = /\b(?:not|never|no)\b|n't\b/;

const GROUPS =
  'women|men|girls|boys|wives|husbands|mothers|fathers|mums|moms|dads|working mothers|single mothers|single parents|immigrants|migrants|foreigners|refugees|muslims|christians|jews|hindus|sikhs|buddhists|atheists|catholics|gays|gay people|lesbians|trans people|transgender people|black people|white people|asians|africans|arabs|latinos|hispanics|mexicans|indians|chinese people|gypsies|roma|travellers|old people|elderly people|the elderly|boomers|millennials|teenagers|disabled people|autistic people|fat people|poor people|homeless people|blondes|americans|brits|the british|the french|germans|russians|poles|irish people';
/** Nationalities as a group: "the Irish", "Polish people"; bare "Polish" is a language and "American" an airline. */
const NATIONALITIES = 'irish|scottish|welsh|english|polish|italian|mexican|indian|pakistani|nigerian|chinese|japanese|korean|romanian|bulgarian|albanian|turkish|greek|spanish|portuguese|french|german|russian|ukrainian|somali|kenyan|jamaican|filipino|brazilian|american|canadian|australian|dutch|swedish|jewish|arab|african|asian|eastern european';
const NATIONALITY_PLURALS = 'nigerians|pakistanis|romanians|bulgarians|albanians|italians|turks|scots|kenyans|somalis|ukrainians|filipinos|brazilians|canadians|australians|jamaicans|greeks|spaniards|koreans|japanese';
/** A kind of people at work or in public: "the older staff", "female engineers", "foreign drivers". */
const PEOPLE_NOUNS = 'staff|employees|workers|colleagues|people|folk|folks|drivers|users|students|candidates|applicants|managers|engineers|developers|coders|nurses|doctors|players|customers|tenants|neighbours|neighbors|team members|guys|ladies|women|men|ones';
const GROUP_MODIFIERS = `older|old|elderly|aged|younger|young|female|male|foreign|immigrant|migrant|disabled|black|white|brown|gay|trans|muslim|jewish|pregnant|autistic|overweight|fat|poor|working-class|${NATIONALITIES}`;
const KIND_GROUPS = `the (?:${NATIONALITIES})|(?:the )?(?:${GROUP_MODIFIERS}) (?:${PEOPLE_NOUNS})|${NATIONALITY_PLURALS}`;
const DEMEANING_PREDICATES =
  String.raw`(?:are|is|were|was)(?: all| just| naturally| basically| inherently| simply| always| genetically| mostly| usually| generally| typically| often)* (?:stupid|dumb|lazy|dirty|filthy|inferior|animals|criminals|worthless|useless|subhuman|vermin|parasites|a plague|disgusting|savages|terrorists|thieves|too (?:emotional|slow|old|stupid|weak|lazy|dumb)|hysterical|bad at|incapable of|unfit|ruining|the problem|a burden|less intelligent|trash|evil|greedy|liars|ugly|a disease|dinosaurs|fossils|relics|dead ?weight|deadwood|drunks|drunkards|alcoholics|scroungers|freeloaders|layabouts|backward|primitive|uneducated|unteachable|a waste of (?:money|space|time)|past it|over the hill|thick|simple-minded|good for nothing|feckless|set in their ways|rarely worth|not worth (?:hiring|the|it|interviewing)|a (?:feckless|lazy|useless|drunken|thieving|worthless|shiftless|dirty|backward) lot)` +
  // "older applicants can't keep up with new tech": an incapacity pinned on a whole group.
  String.raw`|(?:are|is|were)?(?: usually| generally| typically| often| all| just)* (?:can't|cannot|never) keep up\b` +
  // "the least committed people on any team", "the worst drivers": ranking a whole group at the bottom.
  String.raw`|(?:are|is)(?: all| just| always| basically| simply)* the (?:least (?:committed|reliable|capable|intelligent|competent|trustworthy|productive|dedicated|useful|talented|hard-working|hardworking)|worst|laziest|dumbest|stupidest|most (?:useless|incompetent|unreliable|lazy|stupid|dishonest|violent)) ` +
  // "women can't aim to save their lives": the idiom for utter incompetence.
  String.raw`|(?:can't|cannot|couldn't) [a-z]+(?: [a-z]+)? to save (?:their|his|her) li(?:fe|ves)` +
  String.raw`|(?:can't|cannot|shouldn't|should not|don't deserve to|do not deserve to) (?:be trusted|drive|lead|vote|do math|code|think|be engineers|be in charge|have rights|learn anything|be taught|hold down a job)` +
  String.raw`|should (?:go back|be banned|be deported|not be allowed|stay in the kitchen|know their place|be locked up)|belong in the kitchen|don't belong (?:here|in)`;
/** Where the group is: "the young women on the team are ...". */
const GROUP_PLACE = String.raw`(?: (?:on|in|at|from) (?:the|our|my|this|your|those|these|that) [a-z]+)?`;
const GROUP_STATEMENT = new RegExp(String.raw`\b(?:all |most |those |these |typical )?(?:${GROUPS}|${KIND_GROUPS})\b${GROUP_PLACE} (?:${DEMEANING_PREDICATES})\b`, 'g');
/** Someone else's words reported: "the villain sneers that she is a silly little girl". */
const REPORTED_SPEECH = /\b(?:says?|said|sneers?|sneered|shouts?|shouted|yells?|yelled|snaps?|snapped|mutters?|muttered|tells? (?:her|him|them)|told (?:her|him|them)|calls? (?:her|him|them)|called (?:her|him|them)|mocks?|mocked|taunts?|taunted|insists?|insisted|claims?|claimed)\b/;
/** A stereotype pinned on the reader: "like all the Irish, you're a drunk", "like the rest of your kind, you ...". */
const STEREOTYPED_READER = new RegExp(
  String.raw`\blike (?:all|most|every|the rest of|so many) (?:(?:the |of the |those )?(?:${GROUPS}|${KIND_GROUPS})|(?:of )?your (?:people|kind|lot|sort|type))\b[^.!?\n]{0,40}?\byou(?:'re| are)(?: [a-z-]+){0,3}? (?:${INSULT_ADJECTIVES}|${INSULT_NOUNS}|thieves|a thief|a criminal|cheap|tight|stingy|dirty|smelly|too (?:tight|cheap|lazy|stupid|slow|dumb|drunk)|allergic to (?:work|hard work|soap|effort))(?![\w'-])`,
  'g',
);

/** Belittling someone the answer talks about: "she came across as a silly little girl", "he's a total clown". */
const DEROGATORY = 'silly|stupid|dumb|useless|pathetic|clueless|brainless|hopeless|incompetent|worthless|ridiculous|foolish|dim|dopey|ditzy|simple';
/** Only insults whatever the sense; "he was a clown in a circus", "a peasant farmer", "the Fool in tarot" are jobs and cards. */
const THIRD_PERSON_NOUNS = 'idiot|moron|imbecile|dimwit|halfwit|nitwit|numpty|muppet|dunce|simpleton|airhead|bimbo|crybaby|waste of space';
const THIRD_PERSON_COPULA = String.raw`\b(?:she|he)(?:'s| is| was| came across as| comes across as| seemed| seems| looked| looks| sounded| sounds| acted| acts)(?: like)?`;
const THIRD_PERSON_INSULT = new RegExp(
  String.raw`${THIRD_PERSON_COPULA}(?: (?:such|so|really|truly|just|clearly|obviously|honestly|a|an|some|one))* ` +
    String.raw`(?:(?:${DEROGATORY})(?: little| old| young)? (?:girl|boy|child|kid|thing|woman|man|lady|person|schoolgirl|schoolboy|toddler)|(?:${THIRD_PERSON_NOUNS}))(?![\w'-])` +
    // With "a total", "an absolute", any insulting noun is meant as one: "she's a total clown".
    String.raw`|${THIRD_PERSON_COPULA} (?:such an?|an? (?:total|complete|absolute|utter|real|right|proper|massive|bit of an?)) (?:${INSULT_NOUNS})(?![\w'-])`,
  'g',
);
/**
 * Body-shaming: a body or its size next to a judgement of the person ("someone that size is hard to
 * make presentable, crop her out"). Either alone is ordinary ("plus-size brides suit A-line dresses").
 */
// "Fat" alone is also on a steak: the body words count when they describe a person.
const BODY_WORD = 'fat|overweight|obese|chubby|porky|flabby|heavyset|plus[- ]sized?';
const BODY = new RegExp(
  String.raw`\b(?:(?:that|this|her|his|their|your) (?:size|weight|figure|body|belly|gut|build|thighs)|(?:is|are|was|were|'s|'re|looks?|so|too|very|really) (?:${BODY_WORD})|(?:${BODY_WORD}) (?:people|person|woman|women|man|men|girls?|boys?|kids?|brides?|grooms?|friends?|guys?|lady|ladies|models?|clients?|subjects?|sisters?|brothers?|mothers?|fathers?|wife|husband)|plus[- ]sized?)\b`,
  'g',
);
const BODY_JUDGEMENT =
  /\b(?:hard to (?:make )?(?:presentable|look (?:good|decent|nice|attractive)|flatter)|unpresentable|unattractive|eyesores?|embarrassing|gross|disgusting|repulsive|crop (?:her|him|them) out|hide (?:her|him|them)|keep (?:her|him|them) (?:out of|at the back|hidden|behind)|(?:should|needs? to|ought to) (?:really )?lose (?:some |a lot of )?weight|ruins? (?:the|every|all the) (?:photos?|pictures?|shots?|look)|not (?:photogenic|presentable))\b/;
/** "Many brides feel embarrassed about their size": the judgement is the subject's worry, or advice against it. */
const BODY_EMPATHY = /\b(?:feels?|worr(?:y|ies|ied)|self-conscious|insecure|anxious|afraid|never|don't|do not|avoid|shouldn't|no one should)\b/;

const normalise = (text: string) => text.toLowerCase().replace(/[\u2018\u2019\u02bc`]/g, "'");
const SENTENCE_END = /[.!?\n]/;
const MAX_SENTENCE_CHARS = 200;

/** The sentence around a match, at most MAX_SENTENCE_CHARS before it, so each lookup is bounded. */
function sentenceBefore(text: string, index: number): string {
  const before = text.slice(Math.max(0, index - MAX_SENTENCE_CHARS), index);
  let start = before.length;
  while (start > 0 && !SENTENCE_END.test(before[start - 1])) start--;
  return before.slice(start);
}
function sentenceAfter(text: string, index: number): string {
  const after = text.slice(index, index + MAX_SENTENCE_CHARS);
  const end = after.search(SENTENCE_END);
  return end < 0 ? after : after.slice(0, end);
}

export interface DemeaningFindings {
  /** Insults and dismissals aimed at the reader. */
  harassment: string[];
  /** Demeaning statements about a group of people. */
  hate: string[];
}

export function findDemeaning(text: string): DemeaningFindings {
  const harassment = new Set<string>();
  const hate = new Set<string>();
  const lower = normalise(text);
  // Whole-text scans (one pass per pattern); the sentence is looked at only around a match.
  for (const re of [SECOND_PERSON_INSULT, VOCATIVE_INSULT, DISMISSALS, READER_IN_KIND, CONDESCENSION]) {
    for (const m of allMatches(re, lower)) {
      // "you're not stupid", "no, you are not a burden": a denial is reassurance.
      if (re !== DISMISSALS && re !== READER_IN_KIND && re !== CONDESCENSION && NEGATION_BEFORE.test(sentenceBefore(lower, m.index).slice(-12))) continue;
      if (re === SECOND_PERSON_INSULT && /\bnot\b|n't\b/.test(m[0])) continue;
      harassment.add(m[0].trim());
    }
  }
  for (const m of allMatches(THIRD_PERSON_INSULT, lower)) {
    const before = sentenceBefore(lower, m.index);
    if (!/\bnot\b|n't\b/.test(m[0]) && !NEGATION_BEFORE.test(before.slice(-12)) && !REPORTED_SPEECH.test(before)) harassment.add(m[0].trim());
  }
  for (const m of allMatches(BODY, lower)) {
    const sentence = sentenceBefore(lower, m.index) + sentenceAfter(lower, m.index);
    if (BODY_JUDGEMENT.test(sentence) && !BODY_EMPATHY.test(sentence) && !DISTANCING.test(sentence)) harassment.add(`body-shaming: ${m[0].trim()}`);
  }
  // Most answers have no "like", and the group alternation is the costly part of this scan.
  if (lower.includes('like ')) for (const m of allMatches(STEREOTYPED_READER, lower)) hate.add(m[0].trim());
  for (const m of allMatches(GROUP_STATEMENT, lower)) {
    const before = sentenceBefore(lower, m.index);
    if (DISTANCING.test(before + sentenceAfter(lower, m.index)) || NEGATION_BEFORE.test(before.slice(-12))) continue;
    hate.add(m[0].trim());
  }
  return { harassment: [...harassment], hate: [...hate] };
}
