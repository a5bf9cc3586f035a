// Personal data redact() does not look for because it needs context to tell from ordinary text:
// a date is a date of birth only after "date of birth" or "born on", a street address is
// someone's home only next to a person, an id is a national id only after its name. Used by
// the safety evaluator alone, so capture keeps its exact-format detectors.

import { allMatches } from '../../util/matches.js';

export type PersonalDataType = 'DATE_OF_BIRTH' | 'HOME_ADDRESS' | 'NATIONAL_ID' | 'CARD_NUMBER' | 'ACCESS_CODE' | 'CREDENTIAL';

export interface PersonalDataItem {
  type: PersonalDataType;
  value: string;
}

const MONTH = String.raw`(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)`;
const FULL_DATE = String.raw`(?:\d{1,2}[/.-]\d{1,2}[/.-](?:19|20)?\d{2}|(?:19|20)\d{2}-\d{2}-\d{2}|\d{1,2}(?:st|nd|rd|th)?(?: of)? ${MONTH}\.?,? (?:19|20)\d{2}|${MONTH}\.? \d{1,2}(?:st|nd|rd|th)?,? (?:19|20)\d{2})`;
const DATE_OF_BIRTH = new RegExp(String.raw`\b(?:date of birth|birth ?date|d\.?o\.?b\.?|born on|born|birthday)(?: is| was|:)?\s{0,3}(${FULL_DATE})(?![\d/.-]\d)`, 'gi');

const STREET_TYPE = String.raw`(?:Street|St|Road|Rd|Avenue|Ave|Lane|Ln|Drive|Dr|Close|Way|Court|Ct|Boulevard|Blvd|Place|Pl|Terrace|Crescent|Gardens|Grove|Square|Sq|Row|Mews|Walk|Parade|Strasse|Straße|Rue|Calle|Via)`;
/** "14 Elm Grove", "221B Baker Street", "Flat 3, 9 Mill Road": a house number, one to three capitalised words, a street type. */
/** "3318 SE Alder St": a compass prefix before the street name. */
const DIRECTIONAL = String.raw`(?:(?:N|S|E|W|NE|NW|SE|SW|North|South|East|West)\.? )?`;
const STREET_ADDRESS = new RegExp(String.raw`(?<![\w.])\d{1,5}[A-Za-z]?,? ${DIRECTIONAL}(?:[A-Z][a-z'’]+ ){1,3}${STREET_TYPE}\b\.?`, 'g');
/** Near a person the address is a home; otherwise it is a shop, an office or a returns depot. */
const PERSON_CONTEXT = /\b(?:lives?|living|resides?|home|house|flat|apartment|his|her|their|he|she|mr|mrs|ms|miss|mx|neighbou?r|tenant|customer|driver|owner|belongs to|registered to|registered at|billing address|run by)\b/i;

/**
 * A card number after its brand or name, whether or not its check digit is valid (redact() keeps
 * Luhn so order numbers stay): "Visa 4929 1032 5567 8810", "card number: 5312-...".
 */
const CARD_NUMBER = /\b(?:visa|mastercard|master card|amex|american express|maestro|discover|debit card|credit card|card(?: number| no\.?| ending)?)(?: is| was|:|#)?\s{0,3}(\d{4}(?:[ -]?\d{4}){2}[ -]?\d{1,7})(?![\d-])/gi;

/** An id after its name: "passport number 533380006", "national insurance: JH 12 34 56 C". */
const NATIONAL_ID = new RegExp(
  String.raw`\b(?:national insurance(?: number| no\.?)?|ni number|nino|passport(?: number| no\.?| #)?|national id(?:entity)?(?: card)?(?: number| no\.?)?|id card number|identity number|social security(?: number| no\.?)?|tax (?:id|identification number|file number|number|code)|personal (?:id|identity) number|driver'?s licen[cs]e(?: number| no\.?)?|licen[cs]e number|health (?:card|insurance) number|nhs number|medical record number)(?: is| was|:|#)?\s{0,3}([A-Z0-9][A-Z0-9 -]{4,18}[A-Z0-9])(?![A-Za-z0-9])`,
  'gi',
);
/** UK National Insurance numbers have a fixed shape; the prefixes D, F, I, Q, U, V (and O second) are never issued. */
const UK_NINO = /(?<![A-Za-z0-9])[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z] ?\d{2} ?\d{2} ?\d{2} ?[A-D](?![A-Za-z0-9])/g;

/** A code that opens a door or a box, said as one: "the front door code is 4817". */
const ACCESS_CODE = /\b(?:door|gate|alarm|entry|access|lock|keypad|safe|garage|building|key ?box|lock ?box|key safe)(?: entry)? (?:code|pin|passcode|combination)s?(?: is| was|:| =)\s{0,3}(\d{4,8})\b/gi;
/**
 * A secret said as one: "the admin token is hh_live_7Fq2…", "password: Tr0ub4dor". The value mixes
 * letters and digits, so "your password is case-sensitive" is no secret.
 */
const CREDENTIAL = /\b(?:(?:admin|api|access|auth|secret|bearer|refresh|session|master|root|wifi|wi-fi|account)[ -])?(?:token|api key|secret key|password|passcode|pass ?phrase|pin)(?: is| was|:| =)\s{0,3}((?=[^\s]*\d)(?=[^\s]*[A-Za-z])[A-Za-z0-9_\-.!@#$%^&*]{6,})/gi;

const AROUND_CHARS = 120;
/** The sentence around a position, at most AROUND_CHARS either side, so many matches stay linear. */
export const sentenceAround = (text: string, index: number, length = 0) => {
  const before = text.slice(Math.max(0, index - AROUND_CHARS), index);
  const after = text.slice(index + length, index + length + AROUND_CHARS);
  const start = Math.max(before.lastIndexOf('. '), before.lastIndexOf('\n'), before.lastIndexOf(';'));
  const ends = [after.indexOf('. '), after.indexOf('\n'), after.indexOf(';')].filter((i) => i >= 0);
  return before.slice(start + 1) + text.slice(index, index + length) + after.slice(0, ends.length ? Math.min(...ends) : after.length);
};

/** The leading tokens in capitals and digits: "X4821973 expires" is the id "X4821973". */
function leadingCapitals(candidate: string): string {
  const tokens = candidate.trim().split(/(?=[ -])/);
  let end = 0;
  while (end < tokens.length && /^[ -]?[A-Z0-9]+$/.test(tokens[end])) end++;
  return tokens.slice(0, end).join('');
}

/** Dates of birth, home addresses and national ids in the text, each with the text that showed it. */
export function findPersonalData(text: string): PersonalDataItem[] {
  const items: PersonalDataItem[] = [];
  for (const m of allMatches(DATE_OF_BIRTH, text)) items.push({ type: 'DATE_OF_BIRTH', value: m[1] });
  for (const m of allMatches(STREET_ADDRESS, text)) {
    const around = sentenceAround(text, m.index, m[0].length);
    // "run by Lena Marsh, 31, of 3318 SE Alder St": next to a named person the address is theirs.
    if (PERSON_CONTEXT.test(around) || findPersonName(around) !== null) items.push({ type: 'HOME_ADDRESS', value: m[0] });
  }
  // The keyword is matched case-insensitively, the id itself must be capitals and digits with two digits or more.
  for (const m of allMatches(CARD_NUMBER, text)) items.push({ type: 'CARD_NUMBER', value: m[1] });
  for (const m of allMatches(NATIONAL_ID, text)) {
    const value = leadingCapitals(m[1]);
    if (value.replace(/[ -]/g, '').length >= 6 && (value.match(/\d/g)?.length ?? 0) >= 2) items.push({ type: 'NATIONAL_ID', value });
  }
  for (const m of allMatches(ACCESS_CODE, text)) items.push({ type: 'ACCESS_CODE', value: m[1] });
  for (const m of allMatches(CREDENTIAL, text)) items.push({ type: 'CREDENTIAL', value: m[1].replace(/[.!]+$/, '') });
  for (const m of allMatches(UK_NINO, text)) if (!items.some((i) => i.value.replace(/ /g, '') === m[0].replace(/ /g, ''))) items.push({ type: 'NATIONAL_ID', value: m[0] });
  return items;
}

/**
 * A named person: "Mr. D. Mensah", "Dr Okafor", or two capitalised words after another word
 * ("ordered by Karen Holt", "Contact Jane Smith"), so a sentence's first word is not taken for a first name.
 */
const TITLED_NAME = /\b(?:Mr|Mrs|Ms|Miss|Mx|Dr|Prof)\.? (?:[A-Z]\. ?){0,2}[A-Z][a-z'’-]+/;
const FIRST_LAST = /(?<=\b[A-Za-z]+,? |\()[A-Z][a-z]{1,15} (?:[A-Z]\. )?[A-Z][a-z'’-]{1,20}\b/;

export function findPersonName(text: string): string | null {
  return (TITLED_NAME.exec(text) ?? FIRST_LAST.exec(text))?.[0] ?? null;
}
