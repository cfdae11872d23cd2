"""What the scorecard's and the soak's pages share: where a run ran, and how a chart is
written."""
import os, platform, subprocess
from datetime import datetime, timezone


def run_line(directory):
    """The commit, the date and the machine, for a page's "Run:" line: the commit and date
    `ops/chaos.sh` wrote into the run's `directory` when it started (a page regenerated
    later still names what ran), else the checkout's now."""
    try:
        commit, date = open(os.path.join(directory, "run")).read().split()[:2]
    except (OSError, ValueError):
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
        date = datetime.now(timezone.utc).strftime('%Y-%m-%d')
    return f"commit `{commit}`, {date}, {os.cpu_count()} cores, Linux {platform.release()}"


def svg_start(width, height):
    """The opening of an SVG chart on a white ground."""
    return [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="11">',
            f'<rect width="{width}" height="{height}" fill="white"/>']


def write_svg(path, parts):
    open(path, "w").write("\n".join(parts + ["</svg>"]) + "\n")


def relative(target, page):
    """`target` as a link from the Markdown page `page`."""
    return os.path.relpath(target, os.path.dirname(os.path.abspath(page)))
