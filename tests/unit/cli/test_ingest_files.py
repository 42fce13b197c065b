from __future__ import annotations

from pathlib import Path

from cli.files import FileProblem, read_path
from services.ingest.app import create_worker
from services.ingest.collect.feeds import FULL_CONTENT_CHARS
from services.ingest.settings import IngestSettings
from shared.messages import ArticleIngested
from shared.stage import Dropped
from tests.support import offline_outcomes


async def test_a_feed_file_gives_its_complete_entries(tmp_path: Path) -> None:
    story = "The valley railway will add a second daily train from June. " * (FULL_CONTENT_CHARS // 50)
    feed = tmp_path / "valley.rss"
    feed.write_text(
        f"""<?xml version="1.0"?><rss version="2.0"><channel><title>Valley</title>
<item><title>Second train</title><link>https://valley.example/train</link>
<description><![CDATA[<p>{story}</p>]]></description></item>
<item><title>Teaser</title><link>https://valley.example/teaser</link><description>More soon</description></item>
</channel></rss>""",
        encoding="utf-8",
    )
    [submission] = read_path(feed)
    assert not isinstance(submission, FileProblem) and submission.kind == "feed"
    [[article, teaser]] = await offline_outcomes(create_worker(IngestSettings()), submission)
    assert isinstance(article, ArticleIngested) and isinstance(teaser, Dropped)
    assert teaser.reason == "needs_fetch" and teaser.details["url"] == "https://valley.example/teaser"
    assert article.title == "Second train"
    assert article.url == "https://valley.example/train"
    assert article.body.startswith("The valley railway")


def test_unsupported_files_say_what_is_supported(tmp_path: Path) -> None:
    path = tmp_path / "notes.pdf"
    path.write_bytes(b"%PDF")
    [problem] = read_path(path)
    assert isinstance(problem, FileProblem) and ".rss" in problem.error and ".jsonl" in problem.error
