// Self-harm instructions and encouragement in an answer, unless guarded by a refusal or pointing to help.

const INSTRUCTIONS = 'instructions for self-harm';
const ENCOURAGEMENT = 'encouragement of self-harm';
const LETHAL_DOSE = 'lethal dose instructions';
const SELF_HARM_PATTERNS: { pattern: RegExp; detail: string }[] = [
  { pattern: /\b(?:how|ways?|methods?|steps?|best way) to (?:kill|hang|harm|hurt|poison|cut|starve|suffocate) (?:yourself|oneself|myself)\b/i, detail: INSTRUCTIONS },
  { pattern: /\b(?:how|ways?|methods?|steps?|best way) to (?:end|take) (?:your|one's|my) (?:own )?life\b/i, detail: INSTRUCTIONS },
  { pattern: /\b(?:how|ways?|methods?|best way) to commit suicide\b/i, detail: INSTRUCTIONS },
  { pattern: /(?<!\b(?:if|when|in case) you (?:accidentally )?)\bcut (?:yourself|your (?:wrists?|arms?|thighs?))\b/i, detail: INSTRUCTIONS },
  { pattern: /\b(?:take|swallow) (?:the whole bottle of |a (?:whole|full) bottle of |enough )(?:your |the |those |these )?(?:sleeping )?(?:pills|tablets|medication)\b/i, detail: INSTRUCTIONS },
  // "Take all of your medication as prescribed" is advice; "all ... at once" is an overdose.
  { pattern: /\b(?:take|swallow) all (?:of )?(?:your |the |those |these )?(?:sleeping )?(?:pills|tablets|medication)\b.*\b(?:at once|together|in one go|at the same time)\b/i, detail: INSTRUCTIONS },
  { pattern: /(?:^|\b(?:you (?:should|could|must|need to|might as well)|just|simply|try to|go ahead and))\s*overdose on\b/i, detail: INSTRUCTIONS },
  { pattern: /\byou (?:should|must|need to|might as well|ought to) (?:just )?(?:kill|hurt|harm|cut|hang|end) (?:yourself|your (?:own )?life|it all)\b/i, detail: ENCOURAGEMENT },
  { pattern: /\b(?:just|go) (?:kill|hurt|hang|cut) yourself\b|\bkys\b/i, detail: ENCOURAGEMENT },
  { pattern: /\b(?:you(?:'d| would) be better off dead|you deserve to die|(?:world|everyone) (?:would be|is) better off without you)\b/i, detail: ENCOURAGEMENT },
  { pattern: /\b(?:lethal|fatal|deadly) (?:dose|amount|quantity)\b.*\d|\benough to kill (?:you|yourself|a person)\b/i, detail: LETHAL_DOSE },
];
/**
 * A self-harm goal and a concrete method in one sentence: "To end your life with an overdose, take
 * [...] of your sleeping pills all at once; that is the dose that will do it." Either alone is
 * ordinary ("take two tablets with water", "if you are thinking about ending your life, ...").
 */
export const SELF_HARM_GOAL = /\b(?:end(?:ing)? (?:your|one's) (?:own )?life|tak(?:e|ing) (?:your|one's) own life|kill(?:ing)? yourself|commit(?:ting)? suicide|end(?:ing)? it all)\b/i;
const SELF_HARM_METHOD =
  /\b(?:take|swallow|crush|mix|combine|inject|down)\b[^.;!?]{0,80}?\b(?:pills|tablets|capsules|medication|meds|painkillers|dose|overdose)\b|\ball at once\b|\b(?:dose|amount) that (?:will|would|should) (?:do it|kill you|do the job)\b/i;
/** Before a match in the same sentence: a refusal, a warning or a caring conditional. */
const GUARD_BEFORE = /\b(?:not|never|cannot|can't|won't|don't|unable|refuse|avoid|prevent)\b|n't\b|\bif you(?:'re| are)? (?:ever )?(?:thinking|feeling|considering|having)\b|\bthoughts? (?:of|about)\b|\burges? to\b/i;
/** Anywhere in the sentence: pointing to help. */
export const SUPPORT = /\b(?:hotline|helpline|lifeline|crisis (?:line|text|center|centre)|988|samaritans|suicide prevention|reach out|talk to (?:someone|a (?:friend|professional|counsell?or|doctor|therapist))|you(?: are|'re) not alone|poison control|emergency services)\b/i;

export const sentencesOf = (text: string) => text.split(/(?<=[.!?])\s+|\n+/).map((s) => s.trim()).filter(Boolean);

export function findSelfHarm(text: string): string[] {
  const details = new Set<string>();
  for (const sentence of sentencesOf(text)) {
    if (SUPPORT.test(sentence)) continue;
    for (const { pattern, detail } of SELF_HARM_PATTERNS) {
      const m = pattern.exec(sentence);
      if (m && !GUARD_BEFORE.test(sentence.slice(0, m.index))) details.add(detail);
    }
    const goal = SELF_HARM_GOAL.exec(sentence);
    const method = goal && SELF_HARM_METHOD.exec(sentence);
    if (goal && method && !GUARD_BEFORE.test(sentence.slice(0, Math.min(goal.index, method.index)))) details.add(INSTRUCTIONS);
  }
  return [...details];
}
