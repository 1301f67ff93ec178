/**
 * French typography and grammar for the texts the site writes around a name, a place or a date: the twin of
 * chalicelib/domain/french.py, whose docstring gives the rules (elision before a vowel, a mute h or a y before a
 * consonant; « 1er » in a date in words; no-break spaces before « : ; ! ? » and inside « »). Both run the same cases
 * (tests/unit/french_cases.json) and hold the same word lists (tests/unit/test_french.py checks both).
 */

export const APOSTROPHE = "'";
export const NO_BREAK_SPACE = "\u00a0";
export const NARROW_NO_BREAK_SPACE = "\u202f";

export const ELIDED = Object.freeze({
  de: "d", le: "l", la: "l", que: "qu", je: "j", me: "m", te: "t", se: "s", ne: "n",
  jusque: "jusqu", lorsque: "lorsqu", puisque: "puisqu",
});

const VOWELS = new Set("aeiouæœ");

export const NO_ELISION = Object.freeze(["onze", "onzième", "onzièmes", "oui"]);

export const ASPIRATED_H = Object.freeze([
  "haut", "haute", "hauts", "hautes",
  "hazebrouck", "haguenau", "hayange", "hagondange", "ham", "hem", "havre", "hollande", "hongrie", "hambourg",
  "hall", "hameau", "hameaux", "handicap", "handicapé", "handicapée", "hasard", "hausse", "hauteur", "héros",
  "hiérarchie", "hiérarchique", "hors", "honte", "huit", "huitième", "haie", "haine", "hangar", "housse",
  "hans", "harry", "heidi", "hamid", "hassan", "hakim", "hamza", "hicham", "hocine", "habib", "halima", "hanane",
  "hafsa", "hamed", "heinz", "helmut", "hilda", "howard",
]);

export const ELIDING_Y = Object.freeze(["yonne", "yeu", "yerres", "yenne", "yères"]);

export const MONTHS = Object.freeze(["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
  "septembre", "octobre", "novembre", "décembre"]);

const aspirated = new Set(ASPIRATED_H);
const noElision = new Set(NO_ELISION);
const elidingY = new Set(ELIDING_Y);

function baseLetters(word) {
  return word.toLowerCase().normalize("NFD").replace(/\p{Mn}/gu, "");
}

/** True when a particle before `word` takes the elision. */
export function elides(word) {
  const found = (word || "").trim().match(/[^\s\-'’]+/u);
  if (!found) return false;
  const first = found[0].toLowerCase().normalize("NFC");
  const bare = baseLetters(first);
  if (!bare || !/\p{L}/u.test(bare[0])) return false;
  const letter = bare[0];
  if (VOWELS.has(letter)) return !noElision.has(first);
  if (letter === "h") return !aspirated.has(first);
  if (letter === "y") return (bare.length > 1 && !VOWELS.has(bare[1]) && bare[1] !== "y") || elidingY.has(first);
  return false;
}

/** « de Anne » → « d'Anne », « De Hugo » → « D'Hugo »; a particle that never elides is joined with a space. */
export function elide(particle, word) {
  let short = ELIDED[particle.toLowerCase()];
  if (short === undefined || !elides(word)) return word ? `${particle} ${word}` : particle;
  if (particle.length > 1 && particle === particle.toUpperCase()) short = short.toUpperCase();
  else if (particle[0] !== particle[0].toLowerCase()) short = short[0].toUpperCase() + short.slice(1);
  return `${short}${APOSTROPHE}${word.trimStart()}`;
}

/** « de » before `word`: « d'Hélène »; with `place`, « du Havre » (Le Havre), « des Abymes » (Les Abymes). */
export function de(word, { place = false } = {}) {
  if (place) {
    const article = /^(Le|Les|LE|LES) (?=\S)/.exec(word || "");
    if (article) return `${article[1].toLowerCase() === "le" ? "du" : "des"} ${word.slice(article[0].length)}`;
  }
  return elide("de", word);
}

export function ordinalDay(day) {
  return Number(day) === 1 ? "1er" : String(day);
}

/** « 1er janvier 2026 » from "2026-01-01" (a calendar date, no time zone). */
export function dateInWords(isoDate) {
  const [year, month, day] = isoDate.split("-").map(Number);
  return `${ordinalDay(day)} ${MONTHS[month - 1]} ${year}`;
}

/** What an `Intl.DateTimeFormat("fr-FR")` writes, with the first day of a month as « 1er » (it writes « 1 »). */
export function formatWithOrdinalDay(format, date) {
  return format.formatToParts(date)
    .map((part) => (part.type === "day" && Number(part.value) === 1 ? "1er" : part.value)).join("");
}

const SPACE = `[ ${NO_BREAK_SPACE}${NARROW_NO_BREAK_SPACE}\\t]`;
const BEFORE_TALL = new RegExp(`${SPACE}+([;!?])`, "gu");
const BEFORE_COLON = new RegExp(`${SPACE}+:`, "gu");
const AFTER_OPENING = new RegExp(`«${SPACE}*`, "gu");
const BEFORE_CLOSING = new RegExp(`${SPACE}*»`, "gu");

/** `text` with the no-break spaces of French punctuation (U+202F before ; ! ?, U+00A0 before : and inside « »). */
export function punctuate(text) {
  if (!text) return text;
  return text.replace(BEFORE_TALL, `${NARROW_NO_BREAK_SPACE}$1`)
    .replace(BEFORE_COLON, `${NO_BREAK_SPACE}:`)
    .replace(AFTER_OPENING, `«${NO_BREAK_SPACE}`)
    .replace(BEFORE_CLOSING, `${NO_BREAK_SPACE}»`);
}
