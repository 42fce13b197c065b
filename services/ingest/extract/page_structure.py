"""What a page's markup says about its article beyond the running text.

* **Blocks about something else** (a related-stories rail in the middle of the
  article, a sponsor box with its call to action, a "trending" list) are cut
  from the tree before extraction. A block is foreign when it is made of links
  (a good share of its words sit in links, or it ends in a bare link, a button)
  and its words are mostly not the article's: the same topical distance the
  captured-text cleaner uses for teaser runs, whatever the block's wording.
* **The deck** (standfirst, dek, summary) is the first text after the ``<h1>``,
  past any byline or date, when it is one or two sentences styled apart from
  the body's paragraphs; failing that, the text above the body that the page
  also declares as its description (a standfirst styled as a list item, a bold
  line or a second heading).
* **Section headings** are the ``<h2>``–``<h4>`` elements whose next text is one
  of the article's paragraphs or list items; extraction sometimes drops them, so
  they are put back above that text.
* **Lists among the article's paragraphs** (pros and cons, steps, key facts) are
  content when few of their words are links; extraction tuned for precision
  drops some, so they are put back after the paragraph they follow.
* **The author** a byline's markup names (an element classed ``author``,
  ``byline``, ``writer``…), for pages that declare none in their metadata.
* **Photo credits** (an element classed ``credit``, or a caption line shaped
  "Label: Name" or "Name/Agency") are cut before extraction.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import islice

from lxml.html import HtmlElement

from services.ingest.extract.captured_text import (
    TEASER_DECK_MAX_WORDS,
    TEASER_HEADLINE_WORDS,
    is_teaser_deck,
    is_teaser_headline,
)
from services.ingest.extract.lines import TEXT_KINDS, Kind, classify
from services.ingest.extract.topical import content_words, overlap

# Containers that can hold a rail, a box or a list of links.
_BLOCK_TAGS = ("div", "section", "aside", "ul", "ol", "nav", "article", "header", "footer", "figure")
# Elements whose text is one line of the page (no block children of their own).
_LEAF_TAGS = frozenset({"p", "h2", "h3", "h4", "h5", "h6", "div", "li", "blockquote", "figcaption"})
# Elements inside a line of text; any other child makes an element a container, not a line.
_INLINE_TAGS = frozenset(
    [
        "span",
        "a",
        "b",
        "i",
        "em",
        "strong",
        "small",
        "br",
        "time",
        "sup",
        "sub",
        "abbr",
        "img",
        "u",
        "mark",
        "q",
        "cite",
    ]
)
_SECTION_HEADING_TAGS = ("h2", "h3", "h4")
_PARAGRAPH_PARENTS = ("div", "section", "article", "main", "td", "body")
# A foreign block is small: a rail or a box, not a page region holding the article.
FOREIGN_BLOCK_MAX_WORDS = 150
# Teasers' decks and a sponsor's pitch are short; more unlinked text than this is a passage of the page's own.
OWN_TEXT_MAX_WORDS = 60
CALL_TO_ACTION_BOX_MAX_WORDS = 60
# Under this many words the article's paragraphs are too little of an article to measure distance against.
MIN_ARTICLE_WORDS = 80
# Share of a block's words inside links from which it is a list of links (a teaser's headline is linked,
# its deck is not: about half).
LINK_LIST_SHARE = 0.3
# A block sharing less than this share of its content words with the article is about something else.
FOREIGN_MAX_OVERLAP = 0.25
# Paragraphs this long anywhere on the page are article text (teaser decks are one short sentence).
LONG_PARAGRAPH_WORDS = 25
# A deck is one to three short sentences.
DECK_WORDS = (8, 40)
DECK_MAX_SENTENCES = 3
# A description and the deck it repeats may each be cut short, but not to less than this share of the other.
DECLARED_DECK_MIN_SHARE = 0.6
# Bylines, dates, section labels and photo credits between the headline and the deck.
DECK_MAX_SKIPPED = 4
HEADING_MAX_WORDS = 15
# A list with more of its words in links than this is navigation or a teaser list, not the article's.
LIST_MAX_LINK_SHARE = 0.5
# Class or id words marking a byline's name, and a photo credit.
_AUTHOR_MARK = re.compile(r"(?:^|[\s_-])(?:author|byline|writer|reporter|contributor|reviewer)", re.IGNORECASE)
_CREDIT_MARK = re.compile(r"credit|copyright|photographer", re.IGNORECASE)
_IMAGE_MARK = re.compile(r"caption|image|photo|picture|gallery", re.IGNORECASE)
# A line above the deck sharing this much of its content words with the headline repeats it (a kicker variant).
HEADLINE_REPEAT_MIN_OVERLAP = 0.6
# A line with this share of its words in links is a row of links (category, author, share buttons), no deck.
LINK_ROW_MIN_SHARE = 0.5
AUTHOR_NAME_WORDS = (2, 5)
CREDIT_MAX_WORDS = 12
# "Photograph: A Name for The Outlet", "Picture: A Name/Agency", "© Agency": a short label, then names.
_CREDIT_LINE = re.compile(r"^(?:©|\(c\)|[^\W\d_][\w ]{0,24}\s?:|[A-Z][\w.'-]*(?: [A-Z][\w.'-]*)*\s?/)\s*(?P<names>.+)$")
# Most words of a credit's names are capitalised (names of people and agencies).
CREDIT_MIN_CAPITALISED = 0.6
_SENTENCE_END = re.compile(r"[.!?][\"'”’)]*(?:\s|$)")
# What makes an element clickable: a link inside it, or a script's link target on it ("data-href", "onclick").
_CLICK_TARGET = re.compile(r"href|url|link|onclick", re.IGNORECASE)
# A card is a short headline and a one-sentence deck.
CARD_MAX_WORDS = TEASER_HEADLINE_WORDS[1] + TEASER_DECK_MAX_WORDS
# Elements in a card: its box, a link, a headline, a deck, an image, a label or two.
CARD_MAX_ELEMENTS = 12
# A box left holding only a label this short once its cards are cut was the cards' box ("Also in this series").
CARD_BOX_LABEL_MAX_WORDS = 6


@dataclass
class Structure:
    """What the markup says, read before extraction prunes the tree."""

    deck: str | None
    # Each section heading with the start of the paragraph it introduces.
    headings: list[tuple[str, str]]
    # Each list among the article's paragraphs: the texts it follows, nearest first (its heading, then the
    # paragraph before it; none: it opens the article), and its items.
    lists: list[tuple[list[str], list[str]]]


def clean_space(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def densest_paragraphs(tree: HtmlElement) -> list[HtmlElement]:
    """The ``<p>`` children of the element whose own paragraphs hold the most text: where an article's
    running text sits, whatever the page wraps around it."""
    best: list[HtmlElement] = []
    best_chars = 0
    for parent in tree.iter(*_PARAGRAPH_PARENTS):
        texts = {child: clean_space(child.text_content()) for child in parent if child.tag == "p"}
        paragraphs = [child for child, text in texts.items() if text]
        chars = sum(len(text) for text in texts.values())
        if chars > best_chars:
            best, best_chars = paragraphs, chars
    return best


def drop_foreign_blocks(tree: HtmlElement, article: list[HtmlElement], title: str | None) -> None:
    """Cut the blocks of links about other things (teaser rails, sponsor boxes) out of the tree."""
    long_paragraphs = [
        text for paragraph in tree.iter("p") if len((text := paragraph.text_content()).split()) >= LONG_PARAGRAPH_WORDS
    ]
    article_text = " ".join([*(p.text_content() for p in article), *long_paragraphs])
    if len(article_text.split()) < MIN_ARTICLE_WORDS:
        return
    protected = {ancestor for paragraph in article for ancestor in paragraph.iterancestors()}
    protected.update(ancestor for heading in tree.iter("h1") for ancestor in heading.iterancestors())
    context = content_words(f"{title or ''} {article_text}")
    foreign = [block for block in tree.iter(*_BLOCK_TAGS) if block not in protected and _is_foreign(block, context)]
    cut = set(foreign)
    for block in foreign:
        if block.getparent() is not None and not any(ancestor in cut for ancestor in block.iterancestors()):
            block.drop_tree()


def _is_foreign(block: HtmlElement, context: set[str]) -> bool:
    text = clean_space(block.text_content())
    words = len(text.split())
    if not words or words > FOREIGN_BLOCK_MAX_WORDS or block.find(".//h1") is not None:
        return False
    links = [link for link in block.iter("a") if clean_space(link.text_content())]
    link_words = sum(len(clean_space(link.text_content()).split()) for link in links)
    if words - link_words > OWN_TEXT_MAX_WORDS:  # a block with that much text of its own is content
        return False
    link_list = len(links) >= 2 and link_words >= LINK_LIST_SHARE * words
    # A small box closing on a bare link (a button, not a link inside a sentence): an advert's call to action.
    call_to_action = bool(links) and words <= CALL_TO_ACTION_BOX_MAX_WORDS and not _inside(links[-1], block, ("p",))
    if not (link_list or call_to_action):
        return False
    share = overlap(text, context)
    return share is not None and share < FOREIGN_MAX_OVERLAP


def _inside(element: HtmlElement, block: HtmlElement, tags: tuple[str, ...]) -> bool:
    """Whether an ancestor of ``element`` below ``block`` is one of ``tags``."""
    for ancestor in element.iterancestors():
        if ancestor is block:
            return False
        if ancestor.tag in tags:
            return True
    return False


def drop_teaser_cards(tree: HtmlElement, article: list[HtmlElement]) -> None:
    """Cut runs of teaser cards: two or more sibling elements of one template, each clickable and holding a short
    headline and at most a one-sentence deck, most with a deck. The rhythm and the click target say "teaser"
    whatever the cards are about: a card about the article's own town passes any topical test."""
    paragraphs = set(article)
    runs = [cards for parent in tree.iter(*_BLOCK_TAGS, "main", "body") for cards in _card_runs(parent, paragraphs)]
    holders = _ancestors(article)
    for run in runs:
        box = run[0].getparent()
        for card in run:
            card.drop_tree()
        if (
            box is not None
            and box.getparent() is not None
            and box not in holders
            and len(clean_space(box.text_content()).split()) <= CARD_BOX_LABEL_MAX_WORDS
        ):
            box.drop_tree()


def _card_runs(parent: HtmlElement, paragraphs: set[HtmlElement]) -> Iterator[list[HtmlElement]]:
    """The runs of cards among an element's children. Only children whose template repeats can be cards, and
    their lines are read only where the markup has the rhythm: most elements of a page are ruled out cheaply."""
    children = list(parent)
    templates = Counter(_template(child) for child in children)
    repeated = [child for child in children if templates[_template(child)] >= 2]
    if not repeated:
        return
    shaped = set(child for child in repeated if _is_card_shaped(child, paragraphs))
    for run in _runs(children, lambda child: child in shaped, same_template=True):
        yield from _runs(run, _reads_as_card)


def _runs(
    elements: list[HtmlElement], is_card: Callable[[HtmlElement], bool], same_template: bool = False
) -> Iterator[list[HtmlElement]]:
    """Unbroken runs of cards (of one template) with the teaser rhythm: two or more, most with a deck."""
    run: list[HtmlElement] = []
    for element in [*elements, None]:
        card = element is not None and is_card(element)
        if card and (not run or not same_template or _template(element) == _template(run[0])):
            run.append(element)
            continue
        if len(run) >= 2 and sum(len(_card_lines(item)) == 2 for item in run) * 2 > len(run):
            yield run
        run = [element] if card else []


def _ancestors(elements: list[HtmlElement]) -> set[HtmlElement]:
    return {ancestor for element in elements for ancestor in element.iterancestors()}


def _template(element: HtmlElement) -> tuple[object, ...]:
    return element.tag, element.get("class")


def _card_lines(card: HtmlElement) -> list[str]:
    chunks = [chunk for chunk in card.itertext() if chunk.strip()]
    if len(chunks) <= 1:  # most links on a page: one piece of text, one line (read cheaply)
        return [clean_space(chunk) for chunk in chunks]
    leaves = [leaf for leaf in card.iter() if _is_leaf(leaf)]
    texts = [clean_space(leaf.text_content()) for leaf in leaves] if leaves else [clean_space(card.text_content())]
    return [text for text in texts if text]


def _is_card_shaped(element: HtmlElement, paragraphs: set[HtmlElement]) -> bool:
    """Short, clickable, one or two lines: a card by its markup, before its lines are read."""
    if not isinstance(element.tag, str) or element in paragraphs:
        return False
    # A card is a handful of elements: counting a few is cheap, measuring a page region's text is not.
    if sum(1 for _ in islice(element.iter(), CARD_MAX_ELEMENTS + 1)) > CARD_MAX_ELEMENTS:
        return False
    clickable = element.tag == "a" or any(_CLICK_TARGET.search(name) for name in element.attrib)
    if not clickable and element.find(".//a") is None:
        return False
    return len(element.text_content().split()) <= CARD_MAX_WORDS and 1 <= len(_card_lines(element)) <= 2


def _reads_as_card(card: HtmlElement) -> bool:
    """A headline, and a one-sentence deck if there is a second line."""
    lines = _card_lines(card)
    return is_teaser_headline(classify(lines[0])) and (len(lines) == 1 or is_teaser_deck(classify(lines[1])))


def drop_photo_credits(tree: HtmlElement) -> None:
    """Cut photo credits: elements the markup marks as credits, and credit-shaped lines in captions."""
    in_captions = [element for caption in tree.iter("figcaption") for element in caption.iter()]
    marked = [element for element in tree.iter() if _CREDIT_MARK.search(_marks(element))]
    credits = [element for element in dict.fromkeys([*in_captions, *marked]) if _is_credit(element)]
    for element in credits:
        if element.getparent() is not None:
            element.drop_tree()


def _marks(element: HtmlElement) -> str:
    """An element's class and id, where a template names what the element is."""
    return f"{element.get('class', '')} {element.get('id', '')}" if isinstance(element.tag, str) else ""


def _is_credit(element: HtmlElement) -> bool:
    text = clean_space(element.text_content())
    if not text or len(text.split()) > CREDIT_MAX_WORDS or text.endswith("."):
        return False
    if _CREDIT_MARK.search(_marks(element)):
        return True
    shaped = _CREDIT_LINE.match(text)
    if shaped is None or re.search(r"\d", shaped["names"]):
        return False
    words = [word for word in shaped["names"].split() if word[0].isalpha()]
    return bool(words) and sum(word[0].isupper() for word in words) >= CREDIT_MIN_CAPITALISED * len(words)


def read_structure(tree: HtmlElement, article: list[HtmlElement], description: str | None = None) -> Structure:
    headline = next((h for h in tree.iter("h1") if clean_space(h.text_content())), None)
    leaves = _Leaves(tree)
    deck = None
    if headline is not None:
        deck = _deck_under(leaves.after(headline), article, clean_space(headline.text_content()))
    if deck is None and description:
        deck = _declared_deck(leaves, article, description)
    lists = _article_lists(article)
    listed = {item for _, items in lists for item in items}
    return Structure(
        deck=deck,
        headings=_section_headings(tree, leaves, article, deck, listed),
        lists=lists,
    )


def _article_lists(article: list[HtmlElement]) -> list[tuple[list[str], list[str]]]:
    """The lists standing among the article's paragraphs, each with the heading right above it and the
    paragraph before it: a list under its own heading after a table belongs under that heading."""
    paragraphs = set(article)
    found: list[tuple[list[str], list[str]]] = []
    for parent in dict.fromkeys(paragraph.getparent() for paragraph in article):
        if parent is None:
            continue
        paragraph: list[str] = []
        heading: list[str] = []
        for child in parent:
            if child in paragraphs:
                paragraph, heading = [clean_space(child.text_content())], []
            elif child.tag in _SECTION_HEADING_TAGS:
                heading = [clean_space(child.text_content())]
            elif child.tag in ("ul", "ol") and _link_share(child) <= LIST_MAX_LINK_SHARE:
                items = [text for item in child.iterchildren("li") if (text := clean_space(item.text_content()))]
                if items:
                    found.append(([*heading, *paragraph], items))
                heading = []
            elif clean_space(child.text_content()):
                heading = []
    # An item printed in several lists is a template's ("See it at: Shop"), not the article's.
    counts = Counter(item for _, items in found for item in items)
    return [(before, items) for before, items in found if all(counts[item] == 1 for item in items)]


def _link_share(element: HtmlElement) -> float:
    words = len(element.text_content().split())
    linked = sum(len(link.text_content().split()) for link in element.iter("a"))
    return linked / words if words else 1.0


def markup_author(tree: HtmlElement) -> str | None:
    """The name in the innermost byline-marked element above the article's end (reader comments come after).
    Read before blocks are cut: a byline row of links looks like a small box of them."""
    article = densest_paragraphs(tree)
    end = article[-1] if article else None
    marked: list[HtmlElement] = []
    for element in tree.iter():
        if element is end:
            break
        if _AUTHOR_MARK.search(_marks(element)):
            marked.append(element)
    # The innermost: a marked byline row holding a marked name gives the name.
    holders = {ancestor for element in marked for ancestor in element.iterancestors()}
    for element in marked:
        if element not in holders and (name := _person_name(clean_space(element.text_content()))):
            return name
    return None


def _person_name(text: str) -> str | None:
    """A bare name ("Ilse Marquardt"), or the author a byline line names ("By Ana Lima, 3 May")."""
    text = re.sub(r"(?i)^by\s+", "", text)
    words = text.split()
    low, high = AUTHOR_NAME_WORDS
    if low <= len(words) <= high and all(word[0].isupper() for word in words) and not re.search(r"\d", text):
        return text
    return classify(text).facts.author


class _Leaves:
    """The page's one-line text elements in page order, to find what follows an element."""

    def __init__(self, tree: HtmlElement) -> None:
        self._position = {element: index for index, element in enumerate(tree.iter())}
        self._leaves = [element for element in tree.iter() if _is_leaf(element)]
        self._leaf_positions = [self._position[leaf] for leaf in self._leaves]

    def all(self) -> list[HtmlElement]:
        return self._leaves

    def after(self, element: HtmlElement) -> Iterator[HtmlElement]:
        end = self._position[element] + sum(1 for _ in element.iterdescendants())
        return islice(self._leaves, bisect_right(self._leaf_positions, end), None)


def _is_leaf(element: HtmlElement) -> bool:
    return (
        element.tag in _LEAF_TAGS
        and any(part.strip() for part in element.itertext())
        and all(child.tag in _INLINE_TAGS for child in element)
    )


def _signature(element: HtmlElement) -> tuple[object, ...]:
    parent = element.getparent()
    parent_sign = (parent.tag, parent.get("class")) if parent is not None else None
    return element.tag, element.get("class"), parent_sign


def _deck_under(after_headline: Iterator[HtmlElement], article: list[HtmlElement], headline: str) -> str | None:
    body_styles = {_signature(paragraph) for paragraph in article}
    body_texts = {clean_space(paragraph.text_content()) for paragraph in article}
    headline_words = content_words(headline)
    skipped = 0
    for leaf in after_headline:
        text = clean_space(leaf.text_content())
        line = classify(text)
        low, high = DECK_WORDS
        label = line.words < low and line.kind is not Kind.PROSE
        if label and leaf.tag in _SECTION_HEADING_TAGS:
            return None  # a section heading: the body has begun, and what follows it is the body's
        if (
            label
            or line.kind is Kind.METADATA
            or leaf.find(".//time") is not None
            or _is_caption(leaf)
            or _link_share(leaf) >= LINK_ROW_MIN_SHARE  # a row of category, author and share links
            or (overlap(text, headline_words) or 0.0) >= HEADLINE_REPEAT_MIN_OVERLAP  # the headline set again
        ):
            skipped += 1
            if skipped > DECK_MAX_SKIPPED:
                return None
            continue
        sentences = len(_SENTENCE_END.findall(text)) or 1
        is_deck = (
            leaf not in article
            and text not in body_texts  # a visible lede repeated in the full (hidden) body
            and _signature(leaf) not in body_styles
            and low <= line.words <= high
            and sentences <= DECK_MAX_SENTENCES
            and line.kind in (Kind.PROSE, Kind.HEADLINE, Kind.OTHER)
            and leaf.find(".//a") is None
        )
        return text if is_deck else None
    return None


def _is_caption(leaf: HtmlElement) -> bool:
    """Text that belongs to an image (a figure's caption, or an element the template marks as an image's):
    it says what the picture shows, not what the article says."""
    return (
        leaf.tag == "figcaption"
        or any(ancestor.tag == "figure" for ancestor in leaf.iterancestors())
        or bool(_IMAGE_MARK.search(_marks(leaf)))
    )


def _declared_deck(leaves: _Leaves, article: list[HtmlElement], description: str) -> str | None:
    """The line above the article's first paragraph that the page also declares as its description."""
    declared = description.rstrip(" .…")
    if len(declared.split()) < DECK_WORDS[0]:
        return None
    first = article[0] if article else None
    for leaf in leaves.all():
        if leaf is first:
            return None
        text = clean_space(leaf.text_content())
        shown = text.rstrip(" .…")
        shorter, longer = sorted((shown, declared), key=len)
        # Either may be cut short: a description is trimmed for link previews, a teaser line on the page.
        if longer.startswith(shorter) and len(shorter) >= DECLARED_DECK_MIN_SHARE * len(longer):
            return text if classify(text).kind is Kind.PROSE else None  # a headline repeated is no deck
    return None


def _section_headings(
    tree: HtmlElement, leaves: _Leaves, article: list[HtmlElement], deck: str | None, listed: set[str]
) -> list[tuple[str, str]]:
    """Each ``<h2>``–``<h4>`` whose next text is a paragraph or list item of the article's, with its start."""
    body_styles = {_signature(paragraph) for paragraph in article}
    found: list[tuple[str, str]] = []
    for heading in tree.iter(*_SECTION_HEADING_TAGS):
        text = clean_space(heading.text_content())
        if not text or text == deck or len(text.split()) > HEADING_MAX_WORDS or classify(text).kind not in TEXT_KINDS:
            continue  # "Advertisement" over an advert's paragraph is no section heading
        if (table := _table_under(heading)) is not None:
            found.append((text, table))  # whether extraction kept the table is seen when it is placed
            continue
        following = next(leaves.after(heading), None)
        if following is None:
            continue
        following_text = clean_space(following.text_content())
        if (
            following.tag == "p" and (following in article or _signature(following) in body_styles)
        ) or following_text in listed:
            found.append((text, following_text))
    return found


def _table_under(heading: HtmlElement) -> str | None:
    """The first row's text of a table right after a heading (alone, or alone in a wrapper): a table's title."""
    following = heading.getnext()
    while following is not None and not isinstance(following.tag, str):
        following = following.getnext()
    if following is None:
        return None
    table = following if following.tag == "table" else following.find(".//table")
    if table is None or clean_space(table.text_content()) != clean_space(following.text_content()):
        return None
    rows = (clean_space(" ".join(cell.text_content() for cell in row.iter("td", "th"))) for row in table.iter("tr"))
    return next((row for row in rows if row), None)


def place_headings(text: str, headings: list[tuple[str, str]]) -> tuple[str, list[str]]:
    """The text with each section heading on its own line above its paragraph (put back where extraction
    dropped it), and the headings that are in it."""
    lines = text.split("\n")
    placed: list[str] = []
    previous = -1  # headings come in page order: tables under several headings can open with the same row
    for heading, paragraph in headings:
        start = paragraph[:80]
        matches = [index for index, line in enumerate(lines) if _plain(line).startswith(start) and _opens(lines, index)]
        at = next((index for index in matches if index > previous), matches[0] if matches else None)
        if at is None:
            continue
        if at == 0 or lines[at - 1] != heading:
            lines.insert(at, heading)
            at += 1
        placed.append(heading)
        previous = at
    return "\n".join(lines), placed


def _opens(lines: list[str], index: int) -> bool:
    """Whether a line can be what a heading stands over: any line but a table's inner rows."""
    return not (lines[index].startswith("|") and index > 0 and lines[index - 1].startswith("|"))


def _plain(line: str) -> str:
    """A line as the page shows its text: without a list item's "- " or a table row's cell bars."""
    return clean_space(_unbulleted(line).replace("|", " "))


def _unbulleted(line: str) -> str:
    """A line without the "- " extraction writes before a list item."""
    return line[2:] if line.startswith("- ") else line


def place_lists(text: str, lists: list[tuple[list[str], list[str]]]) -> str:
    """The text with each list extraction dropped put back, as "- " items, after the first of the texts it
    follows that extraction kept (its heading, else its paragraph)."""
    lines = text.split("\n")
    present = {_unbulleted(line) for line in lines}
    after: dict[int, list[str]] = {}
    for anchors, items in lists:
        if any(item in present for item in items):
            continue  # extraction kept it
        found = (next((i for i, line in enumerate(lines) if line.startswith(anchor[:80])), None) for anchor in anchors)
        at = next((index for index in found if index is not None), None) if anchors else -1
        if at is not None:
            after.setdefault(at, []).extend(f"- {item}" for item in items)
    if not after:
        return text
    joined = after.get(-1, [])
    for index, line in enumerate(lines):
        joined.append(line)
        joined.extend(after.get(index, []))
    return "\n".join(joined)
