"""Map the repository's top-level rooms onto one import package, ``tracelake``.

``storage/`` becomes ``tracelake.storage``, ``operators/`` becomes ``tracelake.operators`` and so on;
nested packages are discovered so the wheel shipped to a Ray cluster is complete.
"""

from setuptools import find_packages, setup

ROOMS = ["storage", "operators", "pipelines", "jobs", "query", "service"]

package_dir = {"tracelake": "tracelake"}
packages = ["tracelake"] + [f"tracelake.{p}" for p in find_packages("tracelake")]
for room in ROOMS:
    package_dir[f"tracelake.{room}"] = room
    packages.append(f"tracelake.{room}")
    for sub in find_packages(room):
        package_dir[f"tracelake.{room}.{sub}"] = f"{room}/{sub.replace('.', '/')}"
        packages.append(f"tracelake.{room}.{sub}")

setup(packages=packages, package_dir=package_dir,
      package_data={"tracelake": ["samples/*.jsonl"], "tracelake.service": ["ui/*"]})
