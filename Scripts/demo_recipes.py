"""The demo's recipes, for the scripts that bring it up many times over (Scripts/soak, Scripts/bench-api): with
`application=False`, its databases only, without the cache and the web application, which take seconds more to build
and start and which AppTests cover. Imported, not run."""
import os
import shutil

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def databases_only(text, leases=False):
    """The demo recipe without its services from `cache:` up to `env:`, the variables that name them, and (unless
    `leases`) its lease servers (`leases:`)."""
    out, skipping = [], False
    for line in text.split("\n"):
        if line == "  cache:":
            skipping = True
        if line == "env:":
            skipping = False
        if skipping or line.startswith("  BOOKMARKER_URL:") or line.startswith("  CACHE_URL:") or (line.startswith("    leases:") and not leases):
            continue
        out.append(line)
    return "\n".join(out)


def copy(dest, application=False, leases=False):
    """Copies Recipes/ (and, with the application, its image recipe) into the checkout `dest`."""
    shutil.copytree(os.path.join(ROOT, "Recipes"), os.path.join(dest, "Recipes"))
    if application:
        os.makedirs(os.path.join(dest, "Images"), exist_ok=True)
        shutil.copy(os.path.join(ROOT, "Images", "bookmarker.yml"), os.path.join(dest, "Images", "bookmarker.yml"))
        return
    demo = os.path.join(dest, "Recipes", "demo.yml")
    with open(demo) as f:
        text = f.read()
    with open(demo, "w") as f:
        f.write(databases_only(text, leases=leases))
