#!/usr/bin/python3
"""`ansible-test sanity --local` on the collection in ansible/, offline, with Debian's packages.

ansible-test wants the collection under a path .../ansible_collections/flowtraq/upgrade, so
the collection is copied to a temporary one. Several sanity tests run in a virtual
environment that ansible-test fills from PyPI with pinned versions (pylint, yamllint,
pycodestyle, voluptuous, Jinja2, PyYAML). Only Debian's archive is reachable here, so
with --debian-tools those environments are made with Debian's site packages instead
(packages pylint, yamllint, python3-pycodestyle, python3-voluptuous) and nothing is
installed into them; the tests themselves are ansible-test's own, unchanged. Without a
tool a test needs, the test is skipped and the reason printed.

Exit codes: 0 passed, 1 a sanity test failed, 77 ansible-test is not installed.
"""

import argparse
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile

# Sanity tests whose ansible-test environment needs packages, and the Python modules
# (from Debian) that stand in for them.
NEEDS = {
    'ansible-doc': ['jinja2', 'yaml', 'packaging'],
    'import': ['yaml'],
    'pep8': ['pycodestyle'],
    'pylint': ['pylint', 'yaml'],
    'runtime-metadata': ['yaml', 'voluptuous'],
    'validate-modules': ['jinja2', 'yaml', 'voluptuous'],
    'yamllint': ['yamllint', 'yaml'],
}
# Tests that never apply here, and why.
NOT_APPLICABLE = {
    'changelog': 'the collection keeps no changelogs/ fragments (needs antsibull-changelog, not in Debian 12)',
    'pslint': 'the collection has no PowerShell code (needs pwsh, not in Debian 12)',
}

RUNNER = r'''
import sys
# ansible-test fills its sanity environments from PyPI; here they get Debian's site
# packages instead and nothing is installed into them.
import ansible_test._internal.commands.sanity as sanity
import ansible_test._internal.venv as venv

create = venv.create_virtual_environment

def create_with_site_packages(args, python, path, system_site_packages=False, pip=False):
    return create(args, python, path, True, pip)

sanity.create_virtual_environment = create_with_site_packages
sanity.run_pip = lambda *arguments, **options: None

from ansible_test._internal import main
main(sys.argv)
'''


def available(module):
    return importlib.util.find_spec(module) is not None


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--source', required=True, help='the source tree (with ansible/)')
    parser.add_argument('--debian-tools', action='store_true',
                        help='run the tests that need packages with Debian\'s (see above)')
    arguments, extra = parser.parse_known_args()
    if not shutil.which('ansible-test'):
        print('SKIP: ansible-test is not installed (Debian package ansible-core).')
        return 77

    skipped = dict(NOT_APPLICABLE)
    for test, modules in NEEDS.items():
        missing = [module for module in modules if not available(module)]
        if not arguments.debian_tools:
            skipped[test] = 'its environment is installed from PyPI (offline here); use --debian-tools'
        elif missing:
            skipped[test] = 'Debian\'s python3 lacks %s' % ', '.join(missing)

    work = tempfile.mkdtemp(prefix='ftu-sanity-')
    try:
        collection = os.path.join(work, 'ansible_collections', 'flowtraq', 'upgrade')
        shutil.copytree(os.path.join(arguments.source, 'ansible'), collection,
                        ignore=shutil.ignore_patterns('output', '__pycache__'))
        env = dict(os.environ)
        # ansible-test keeps its environments and caches under ~/.ansible/test.
        env['HOME'] = os.path.join(work, 'home')
        env.setdefault('LC_ALL', 'C.UTF-8')
        argv = [sys.executable, '-c', RUNNER, 'sanity', '--local', '--python',
                '%d.%d' % sys.version_info[:2], '--color', 'no'] + extra
        for test in sorted(skipped):
            argv += ['--skip-test', test]
        completed = subprocess.run(argv, cwd=collection, env=env)
        print('Skipped sanity tests:')
        for test, reason in sorted(skipped.items()):
            print('  %s: %s' % (test, reason))
        print('Also skipped by ansible-test itself when their tool is missing: shellcheck '
              '(no shell scripts in the collection).')
        return 0 if completed.returncode == 0 else 1
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == '__main__':
    sys.exit(main())
