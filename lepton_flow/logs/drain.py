"""Drain: online log template mining (He et al., "Drain: An Online Log Parsing Approach with Fixed Depth Tree", ICWS 2017).

A message is masked (block ids, IP addresses, hex numbers, paths, numbers,
numbers glued to words by `_`, become placeholders), split into tokens, and routed down a tree by its token
count and its first `depth - 2` tokens (tokens holding digits share one
branch). In the leaf it joins the most similar template (the share of
positions with the same token) if that share reaches `similarity`, turning
the positions that differ into `<*>`; otherwise it starts a new template.
Two messages that differ in a capitalised word (`VM Started` / `VM Paused`,
`Ban` / `Unban`) never share a template, however similar the rest: values
a program writes into its messages are names, numbers and paths (`user
cyrus`), where a capitalised word is the message's own (month and day
names, `True`, `False`, `None` and the like are values).

Template ids are positions in creation order. `state()` and `Drain.from_state`
save and restore everything, so a run that starts from the state the last
run left keeps every id it had: the store's template axis only grows.
Drain3, the reference implementation, cannot be installed beside Prefect (it
pins an old `cachetools`), hence this one.
"""

from __future__ import annotations

import re

WILDCARD = "<*>"
SEEN_SAVED = 20_000
SEEN_MAX = 1_000_000
_GLUED_MASK = (r"(?<=_)\d+(?=_|[^\w.]|$)|(?<![\w.])\d+(?=_)", "<NUM>")
"""Numbers glued to words by `_` (Hadoop's `attempt_1445144423722_0020_m_000000_0`, Spark's `rdd_2_0`, Trino's query
ids): the prefix stays, so each kind of id keeps its own token, but each id is not its own text."""
_GLUED_RE2 = [
    # Run twice, as every form that puts a neighbour back after the match: an id's numbers share their `_`s. (Groups
    # of the branch that did not match are empty.)
    (r"(_)\d+(_|[^\w.]|$)|(^|[^\w.])\d+(_)", r"\1\3<NUM>\2\4"),
]
_UNITS = r"(?:[kKMGTP]i?B|[kKMGT]|B|bytes|[mun]?s|secs?|mins?|[kMG]?Hz|[kKMG]?bps)"
"""Units a program writes glued to a number (`165k`, `512MB`, `250ms`, `3.5s`, `2GHz`): the number and its unit are one value."""
_UNITLESS_NUMBER = (r"(?<![\w.])[-+]?\d+(?:\.\d+)?(?![\w.])", "<NUM>")
DEFAULT_MASKS: list[tuple[str, str]] = [
    (r"blk_-?\d+", "<BLK>"),
    (r"(?<![\w-])[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}(?![\w-])", "<UUID>"),
    (r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?::\d+)?(?![\w.])", "<IP>"),
    (r"(?<![\w])0x[0-9a-fA-F]+(?![\w])", "<HEX>"),
    (r"(?<![\w/])(?:/[\w.\-]+)+/?", "<PATH>"),
    _GLUED_MASK,
    (rf"(?<![\w.])[-+]?\d+(?:\.\d+)?{_UNITS}?(?![\w.])", "<NUM>"),
]

# The default masks in RE2, which has no look-around: the neighbour a
# look-around would test is matched and put back, and a second pass catches
# a match whose neighbour the match before it took. For ASCII messages that,
# once the masks before it ran, hold no sign before a digit (so `[-+]?`
# never matches) this gives the text the masks above give; the others are
# masked by Python's `re`. Tests compare the two on generated messages.
_RE2_MASKS: list[tuple[str, str]] = [
    (r"blk_-?\d+", "<BLK>"),
    (r"(^|[^\w-])[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}($|[^\w-])", r"\1<UUID>\2"),
    (r"(^|[^\w.])(?:\d{1,3}\.){3}\d{1,3}(?::\d+)?($|[^\w.])", r"\1<IP>\2"),
    (r"(^|[^\w])0x[0-9a-fA-F]+($|[^\w])", r"\1<HEX>\2"),
    (r"(^|[^\w/])(?:/[\w.\-]+)+/?", r"\1<PATH>"),
    *_GLUED_RE2,
    (rf"(^|[^\w.])\d+(?:\.\d+)?{_UNITS}?($|[^\w.])", r"\1<NUM>\2"),
]
_RE2_UNITLESS_NUMBER = (r"(^|[^\w.])\d+(?:\.\d+)?($|[^\w.])", r"\1<NUM>\2")
_RE2_UNSAFE = r"[-+]\d"
# Stores mined before a mask was added keep their masks (saved with the miner's state), and their RE2 forms: before
# the mask of numbers glued by `_`, and before the UUID mask too.
# ... and before numbers took their units.
_UNITLESS_MASKS = [*DEFAULT_MASKS[:-1], _UNITLESS_NUMBER]
_RE2_UNITLESS = [*_RE2_MASKS[:-1], _RE2_UNITLESS_NUMBER]
_UNGLUED_MASKS = [m for m in _UNITLESS_MASKS if m != _GLUED_MASK]
_LEGACY_MASKS = [m for m in _UNGLUED_MASKS if m[1] != "<UUID>"]
_RE2_FORMS = {
    tuple(DEFAULT_MASKS): _RE2_MASKS,
    tuple(_UNITLESS_MASKS): _RE2_UNITLESS,
    tuple(_UNGLUED_MASKS): [m for m in _RE2_UNITLESS if m not in _GLUED_RE2],
    tuple(_LEGACY_MASKS): [m for m in _RE2_UNITLESS if m not in _GLUED_RE2 and "<UUID>" not in m[1]],
}
_PLACEHOLDER = re.compile(r"<[A-Z]+>")
ROUTING = 2
"""How a token picks its branch: 2 (now) sends a token holding a mask's placeholder (`host:<NUM>`) down the wildcard
branch as its digits would have; 1 (miners saved before) only tokens with digits or starting with `<`."""
_WORD = re.compile(r"\(?([A-Z][a-z]+)[.,;:!?)]*")
_VALUE_WORDS = frozenset((
    "January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December",
    "Jan", "Feb", "Mar", "Apr", "Jun", "Jul", "Aug", "Sep", "Sept", "Oct", "Nov", "Dec",
    "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday", "Mon", "Tue", "Tues", "Wed", "Thu", "Thur", "Thurs",
    "Fri", "Sat", "Sun", "True", "False", "None", "Null", "Nil", "Yes", "No",
))


def is_word(token: str) -> bool:
    """Whether a token is a capitalised word (`Started`, `(Network)`, `Down.`) of a message's own, not a value a program wrote into it."""
    m = _WORD.fullmatch(token)
    return m is not None and m.group(1) not in _VALUE_WORDS


class Drain:
    def __init__(
        self, depth: int = 4, similarity: float = 0.4, max_children: int = 100, masks: list[tuple[str, str]] | None = None,
        routing: int = ROUTING, words: bool = True,
    ):
        """`words`: keep messages that differ in a capitalised word apart (miners saved before it keep merging them)."""
        if depth < 3:
            raise ValueError("depth must be at least 3 (the length layer, one token layer, the leaves)")
        if not 0 < similarity <= 1:
            raise ValueError("similarity must be in (0, 1]")
        self.depth, self.similarity, self.max_children, self.routing, self.words = depth, similarity, max_children, routing, words
        self.masks = list(masks if masks is not None else DEFAULT_MASKS)
        self._compiled = [(re.compile(p), t) for p, t in self.masks]
        self.templates: list[list[str]] = []
        self.counts: list[int] = []
        self._tree: dict = {}
        # Masked messages already placed: logs repeat themselves, and a
        # message its template already covers would leave it unchanged.
        self._seen: dict[str, int] = {}

    def mask(self, message: str) -> str:
        for pattern, token in self._compiled:
            message = pattern.sub(token, message)
        return message

    def mask_many(self, messages):
        """`mask` of each message of an Arrow string array, as an Arrow array: with RE2, all at once, where that gives the same text.

        Logs repeat themselves (often once the first masks have run: a block
        id or a request id is the only difference), so once a sample of the
        texts shows that half or more are repeats, the rest of the masks run
        over each distinct text once.
        """
        import numpy as np
        import pyarrow as pa
        import pyarrow.compute as pc

        re2_masks = _RE2_FORMS.get(tuple(tuple(m) for m in self.masks))
        if re2_masks is None:
            values, codes = _distinct(messages)
            masked = pa.array([None if m is None else self.mask(m) for m in values.to_pylist()], pa.string())
            return masked if codes is None else masked.take(codes)
        values, codes = messages, None
        odd = pc.invert(pc.string_is_ascii(messages))  # per message, as `codes` may merge texts Python's re would mask apart
        for pattern, token in re2_masks:
            if codes is None:
                values, codes = _distinct(values)
            if token.endswith("<NUM>\\2"):  # a sign the masks before left in front of a digit: Python's re masks those
                unsafe = pc.match_substring_regex(values, _RE2_UNSAFE)
                odd = pc.or_(odd, unsafe if codes is None else unsafe.take(codes))
            values = pc.replace_substring_regex(values, pattern, token)
            if token[-2] == "\\":  # a neighbour put back after the match: a second pass for the match it hid
                values = pc.replace_substring_regex(values, pattern, token)
        masked = values if codes is None else values.take(codes)
        odd = pc.fill_null(odd, False)
        if pc.any(odd).as_py():
            index = np.flatnonzero(odd.to_numpy(zero_copy_only=False))
            fixed = pa.array([self.mask(m) for m in messages.take(pa.array(index, pa.int64())).to_pylist()], masked.type)
            masked = pc.replace_with_mask(masked, odd, fixed)
        return masked

    def add_many(self, masked):
        """Template ids of masked messages in order (as `add_masked` of each in turn gives them), mining each distinct one once.

        `masked`: a list, an Arrow string array, or an Arrow dictionary array
        (what staging keeps: each file's distinct texts once).
        """
        import numpy as np
        import pyarrow as pa

        if isinstance(masked, list):
            masked = pa.array(masked, pa.string())
        if isinstance(masked, pa.ChunkedArray):
            masked = masked.unify_dictionaries().combine_chunks() if pa.types.is_dictionary(masked.type) else masked.combine_chunks()
        if not pa.types.is_dictionary(masked.type):
            masked = masked.dictionary_encode()
        codes, values = masked.indices.to_numpy(zero_copy_only=False), masked.dictionary.to_pylist()
        present = first_occurrences(codes, len(values))
        if len(self._seen) + len(present) > SEEN_MAX:  # repeats past the cache would be mined again: one at a time
            return np.fromiter((self.add_masked(values[c]) for c in codes.tolist()), np.int64, len(codes))
        ids = self.add_counted([values[c] for c in present.tolist()], np.bincount(codes, minlength=len(values))[present].tolist())
        lookup = np.zeros(len(values), np.int64)
        lookup[present] = ids
        return lookup[codes]

    def add_counted(self, masked: list[str], counts: list[int], similarities: list[float | None] | None = None):
        """Template ids of distinct masked texts, each seen `counts` times, in the order their first occurrences came.

        Mines each text once and counts its repeats to the template it
        joined, as `add_masked` of every occurrence in turn gives them while
        the cache of texts seen has room (`SEEN_MAX`); past it, a text's
        later occurrences count to the template its first joined, so equal
        texts never split across templates. `similarities`: each text's
        threshold (its file's format's), None for the miner's own.
        """
        import numpy as np

        sims = similarities if similarities is not None else [None] * len(masked)
        ids = np.fromiter((self.add_masked(text, sim) for text, sim in zip(masked, sims)), np.int64, len(masked))
        for tid, n in zip(ids.tolist(), counts):
            self.counts[tid] += n - 1
        return ids

    def _leaf(self, tokens: list[str], create: bool) -> list[int] | None:
        node = self._tree.setdefault(str(len(tokens)), {}) if create else self._tree.get(str(len(tokens)))
        for token in tokens[: self.depth - 2]:
            if node is None:
                return None
            key = WILDCARD if self._variable(token) else token
            if key not in node and len(node) >= self.max_children:
                key = WILDCARD  # a full node sends new tokens down its wildcard branch
            node = node.setdefault(key, {}) if create else node.get(key, node.get(WILDCARD))
        if node is None:
            return None
        return node.setdefault("", []) if create else node.get("")

    def _variable(self, token: str) -> bool:
        """Whether a token routes as a variable (down the wildcard branch): it holds digits, or a mask's placeholder."""
        if any(c.isdigit() for c in token) or token.startswith("<"):
            return True
        return self.routing >= 2 and _PLACEHOLDER.search(token) is not None

    def _best(self, leaf: list[int], tokens: list[str]) -> tuple[int | None, float]:
        best, best_sim, best_params = None, -1.0, 0
        for tid in leaf:
            template = self.templates[tid]
            if self.words and any(a != b and is_word(a) and is_word(b) for a, b in zip(template, tokens)):
                continue
            same = sum(a == b for a, b in zip(template, tokens))
            sim = same / len(tokens) if tokens else 1.0
            params = template.count(WILDCARD)
            if sim > best_sim or (sim == best_sim and params < best_params):
                best, best_sim, best_params = tid, sim, params
        return best, best_sim

    def add(self, message: str) -> int:
        """The template id of `message`, learning from it (a new template, or a more general one).

        A message whose masked text was seen before keeps the id it got then,
        so equal messages never split across templates.
        """
        return self.add_masked(self.mask(message))

    def add_masked(self, masked: str, similarity: float | None = None) -> int:
        """`add` of a message `mask` has already masked; `similarity` for this message instead of the miner's."""
        tid = self._seen.get(masked)
        if tid is not None:
            self.counts[tid] += 1
            return tid
        tokens = masked.split()
        leaf = self._leaf(tokens, create=True)
        best, sim = self._best(leaf, tokens)
        if best is not None and sim >= (similarity or self.similarity):
            self.templates[best] = [a if a == b else WILDCARD for a, b in zip(self.templates[best], tokens)]
            self.counts[best] += 1
            tid = best
        else:
            self.templates.append(tokens)
            self.counts.append(1)
            tid = len(self.templates) - 1
            leaf.append(tid)
        if len(self._seen) < SEEN_MAX:  # bounded
            self._seen[masked] = tid
        return tid

    def match(self, message: str) -> int | None:
        """The template id `message` would join, without learning; None if it fits none."""
        tokens = self.mask(message).split()
        leaf = self._leaf(tokens, create=False)
        if not leaf:
            return None
        best, sim = self._best(leaf, tokens)
        return best if best is not None and sim >= self.similarity else None

    def template(self, tid: int) -> str:
        return " ".join(self.templates[tid])

    def state(self) -> dict:
        """Everything needed to continue mining where this left off (JSON-serialisable)."""
        return {
            "depth": self.depth,
            "similarity": self.similarity,
            "max_children": self.max_children,
            "routing": self.routing,
            "words": self.words,
            "masks": [list(m) for m in self.masks],
            "templates": self.templates,
            "counts": self.counts,
            "tree": self._tree,
            # The first messages seen, to keep their ids without the tree; bounded, as the
            # state is saved with every commit.
            "seen": dict(zip(list(self._seen)[:SEEN_SAVED], list(self._seen.values())[:SEEN_SAVED])),
        }

    @classmethod
    def from_state(cls, state: dict) -> Drain:
        drain = cls(
            state["depth"], state["similarity"], state["max_children"], [tuple(m) for m in state["masks"]], state.get("routing", 1),
            state.get("words", False),
        )
        drain.templates = [list(t) for t in state["templates"]]
        drain.counts = list(state["counts"])
        drain._tree = state["tree"]
        drain._seen = dict(state.get("seen", {}))
        return drain


def first_positions(codes, size: int):
    """Where each integer below `size` first occurs in `codes` (`len(codes)` for one that does not).

    `np.minimum.at` finds them without sorting all the codes (`np.unique`
    sorts: 30 times slower on 8 M codes).
    """
    import numpy as np

    first = np.full(size, len(codes), np.int64)
    np.minimum.at(first, codes, np.arange(len(codes)))
    return first


def first_occurrences(codes, size: int):
    """The distinct values of `codes` (integers below `size`) in the order they first occur."""
    import numpy as np

    first = first_positions(codes, size)
    present = np.flatnonzero(first < len(codes))
    return present[np.argsort(first[present], kind="stable")]


DISTINCT_SAMPLE = 4096


def _distinct(texts):
    """(each distinct text once, the index of each text's) when a sample says half or more of `texts` are repeats, else (texts, None)."""
    import numpy as np

    if len(texts) < 2 * DISTINCT_SAMPLE:
        return texts, None
    sample = texts.take(np.arange(DISTINCT_SAMPLE) * (len(texts) // DISTINCT_SAMPLE))  # spread over the whole array
    if len(sample.unique()) > DISTINCT_SAMPLE // 2:
        return texts, None
    encoded = texts.dictionary_encode()  # a missing text: a missing code, which `take` gives back as missing
    return encoded.dictionary, encoded.indices


def grouping_accuracy(predicted: list, truth: list) -> float:
    """Share of lines whose mined group holds exactly the lines of their ground-truth group."""
    groups: dict = {}
    true_groups: dict = {}
    for i, (p, t) in enumerate(zip(predicted, truth)):
        groups.setdefault(p, set()).add(i)
        true_groups.setdefault(t, set()).add(i)
    correct = 0
    for lines in groups.values():
        labels = {truth[i] for i in lines}
        if len(labels) == 1 and true_groups[labels.pop()] == lines:
            correct += len(lines)
    return correct / len(predicted) if predicted else 1.0
