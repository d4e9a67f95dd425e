"""report.html: self-contained, with plots when matplotlib is there and tables when not."""

from __future__ import annotations

import sys
from html.parser import HTMLParser

import pytest

from axon.train import LRLogger, render_report

VOID = {"meta", "img", "br", "hr", "link", "input"}


class Checker(HTMLParser):
    """Collects tags, checks nesting, and gathers headings, images and text."""

    def __init__(self):
        super().__init__()
        self.stack, self.errors, self.images, self.h2, self.text = [], [], [], [], []
        self._in_h2 = False

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.images.append(dict(attrs))
        if tag not in VOID:
            self.stack.append(tag)
        self._in_h2 = tag == "h2"

    def handle_endtag(self, tag):
        if not self.stack or self.stack.pop() != tag:
            self.errors.append(f"unbalanced </{tag}>")
        self._in_h2 = False

    def handle_data(self, data):
        self.text.append(data)
        if self._in_h2:
            self.h2.append(data)


def parse(html: str) -> Checker:
    checker = Checker()
    checker.feed(html)
    checker.close()
    assert not checker.errors and not checker.stack, (checker.errors, checker.stack)
    assert html.startswith("<!DOCTYPE html>")
    return checker


def test_report_with_plots(make_trainer, tmp_path):
    trainer = make_trainer(max_epochs=2, callbacks=[LRLogger()], report=True, log_every=2,
                           config={"lr": 0.05, "note": "<b>escaped</b>"},
                           report_extras={"Sample": "to be <or> not"})  # fmt: skip
    trainer.fit()
    html = (tmp_path / "run" / "report.html").read_text()
    page = parse(html)
    assert page.h2 == ["Final metrics", "Curves", "History", "Sample", "Model", "Config"]
    titles = [img["alt"] for img in page.images]
    assert titles == ["loss", "accuracy", "learning rate"]
    assert all(img["src"].startswith("data:image/png;base64,iVBOR") for img in page.images)
    text = "".join(page.text)
    assert "to be <or> not" in text and "<b>escaped</b>" in text  # shown as text, not markup
    assert "Total params: 42" in text  # the model summary (2*8+8 + 8*2+2)
    assert "val_accuracy" in text
    assert "<script" not in html and "http" not in html.replace("https://", "")  # self-contained


def test_report_without_matplotlib_has_tables_only(monkeypatch):
    for mod in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.delitem(sys.modules, mod)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib -> ImportError
    records = [
        {"split": "train", "step": 1, "epoch": 1, "loss": 1.0, "lr": 0.1},
        {"split": "train", "step": 2, "epoch": 1, "loss": 0.5, "lr": 0.1},
        {"split": "val", "step": 2, "epoch": 1, "loss": 0.7},
        {"split": "epoch", "step": 2, "epoch": 1, "loss": 0.75, "val_loss": 0.7, "lr": 0.1},
    ]
    html = render_report("run", records, config={"a": 1}, final={"loss": 0.5},
                         stop_reason="NaNGuard: non-finite loss")  # fmt: skip
    page = parse(html)
    assert page.images == []
    text = "".join(page.text)
    assert "matplotlib is not installed" in text and "Stopped early: NaNGuard" in text
    assert page.h2 == ["Final metrics", "Curves", "History", "Config"]


def test_add_report_section_html(make_trainer, tmp_path):
    trainer = make_trainer(max_epochs=1)
    trainer.fit()
    trainer.add_report_section("Generated text", "<p><i>ROMEO:</i> hi</p>", html=True)
    path = trainer.write_report()
    page = parse(path.read_text())
    assert "Generated text" in page.h2 and "ROMEO:" in "".join(page.text)


@pytest.mark.slow
def test_report_renders_in_headless_chromium(make_trainer, tmp_path):
    import shutil
    import subprocess

    browser = next(
        (b for b in ("chromium", "chromium-browser", "google-chrome") if shutil.which(b)), None
    )
    if browser is None:
        pytest.skip("no headless Chromium installed")
    trainer = make_trainer(max_epochs=2, report=True)
    trainer.fit()
    shot = tmp_path / "shot.png"
    subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", f"--screenshot={shot}",
                    "--window-size=1200,2000", (tmp_path / "run" / "report.html").as_uri()],
                   check=True, capture_output=True, timeout=60)  # fmt: skip
    assert shot.stat().st_size > 10_000
