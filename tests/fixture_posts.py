"""Posts we write for tests, in the Hexo feeds' format."""

from pathlib import Path


def write_post(folder, name, *, title="测试文章", body="<p>正文。</p>", extra="", date="Wed, 15 Dec 2021 05:07:15 GMT"):
    """Write a Hexo post we make up, in the feeds' format; return its path."""
    path = Path(folder) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        f"\n---\ntitle: '{title}'\ncategories: \n - 测试\n - 样例源\nauthor: 样例源\ndate: {date}\n{extra}---\n\n<div>{body}</div>  ",
        encoding="utf-8",
    )
    return path


def write_posts(folder, posts):
    """Write {relative name: (title, body text)} as posts of one paragraph each; return the folder."""
    for name, (title, body) in posts.items():
        write_post(folder, name, title=title, body=f"<p>{body}</p>")
    return folder
