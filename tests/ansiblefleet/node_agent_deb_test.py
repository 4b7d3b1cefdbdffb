#!/usr/bin/python3
"""flowtraq.upgrade.node_agent installs the agent's real .deb, in a throwaway copy of the system.

The agent's Debian package is made from the build (cpack, component "agent", as .ci/packaging
makes it), then the module installs it with apt-get and dpkg for real: maintainer scripts,
dpkg's database, /usr/bin/ftupgrade-agent, /etc/ftupgrade-agent. So that no other user of
this machine sees any of it, the playbook runs in a mount namespace of its own where /usr,
/etc, /var, /opt and /run are overlays on a tmpfs: the package is really installed there,
and all of it is gone when the namespace ends.
  1. the first run installs the package (dpkg-query says so) and configures the agent; the
     fingerprint returned is the installed certificate's SHA-256;
  2. the same run again changes nothing: the package is not installed again, the
     configuration is not rewritten;
  3. the installed program runs, and outside the namespace nothing was installed.
Exit 77 (CTest: skipped), saying why, without root, unshare, overlayfs, cpack or
ansible-playbook, or when ftupgrade-agent is installed on this machine already.
"""

import argparse
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from node_agent_test import Failure, Harness, check, free_port, pem_fingerprint  # noqa: E402

OVERLAID = ('/usr', '/etc', '/var', '/opt', '/run')


def skip(sentence):
    print('SKIP: ' + sentence)
    sys.exit(77)


def installed_here(package):
    completed = subprocess.run(['dpkg-query', '--show', '--showformat', '${Status}', package],
                               capture_output=True, text=True)
    return completed.returncode == 0 and 'installed' in completed.stdout.split()


def make_deb(build_dir, out_dir):
    completed = subprocess.run(['cpack', '-G', 'DEB', '-D', 'CPACK_COMPONENTS_ALL=agent', '-B', out_dir],
                               cwd=build_dir, capture_output=True, text=True, timeout=600)
    print(completed.stdout + completed.stderr)
    check(completed.returncode == 0, 'cpack could not make the agent package')
    debs = glob.glob(os.path.join(out_dir, 'ftupgrade-agent_*.deb'))
    check(len(debs) == 1, 'cpack made no ftupgrade-agent_*.deb')
    return debs[0]


def enter_throwaway_system(scratch):
    """In this (private) mount namespace: every folder dpkg writes to becomes an overlay."""
    subprocess.run(['mount', '-t', 'tmpfs', 'tmpfs', scratch], check=True)
    for folder in OVERLAID:
        if not os.path.isdir(folder):
            continue
        name = folder.strip('/')
        upper, work = os.path.join(scratch, name, 'upper'), os.path.join(scratch, name, 'work')
        os.makedirs(upper)
        os.makedirs(work)
        subprocess.run(['mount', '-t', 'overlay', 'overlay', '-o',
                        'lowerdir=%s,upperdir=%s,workdir=%s' % (folder, upper, work), folder], check=True)


def inside(args):
    enter_throwaway_system(args.scratch)
    harness = Harness(args.bin, args.source, args.work)
    subprocess.run([os.path.join(args.bin, 'ftsandbox'), 'init', harness.install, '--version', '6.2.1-1200',
                    '--role', 'standalone', '--os', 'linux'], check=True, capture_output=True)
    # The package's own places: the configuration its postinst makes, the program it installs.
    harness.config = '/etc/ftupgrade-agent/agent.conf'
    options = dict(deb=args.deb, token='deb-cluster-token-0123456789', port=free_port(),
                   agent='/usr/bin/ftupgrade-agent')
    package = subprocess.run(['dpkg-deb', '--field', args.deb, 'Version'], capture_output=True,
                             text=True, check=True).stdout.strip()

    print('== 1. the first run installs the package and configures the agent')
    check(not installed_here('ftupgrade-agent'), 'ftupgrade-agent is installed before the first run')
    result = harness.module(**options)
    check(not result.get('failed'), 'the first run failed: %s' % result.get('msg'))
    check(result['changed'] and result['package_installed'], 'the first run should install the package')
    check(installed_here('ftupgrade-agent'), 'dpkg does not list ftupgrade-agent as installed')
    version = subprocess.run(['dpkg-query', '--show', '--showformat', '${Version}', 'ftupgrade-agent'],
                             capture_output=True, text=True).stdout
    check(version == package, 'dpkg lists version %r, the package is %r' % (version, package))
    check(os.path.isfile('/usr/bin/ftupgrade-agent'), '/usr/bin/ftupgrade-agent is not there')
    mode = os.stat('/etc/ftupgrade-agent').st_mode & 0o777
    check(mode == 0o700, '/etc/ftupgrade-agent has mode %o, want 700 (postinst)' % mode)
    check(result['fingerprint'] == pem_fingerprint('/etc/ftupgrade-agent/agent.crt'),
          'the fingerprint is not the installed certificate\'s SHA-256')
    before = harness.snapshot()

    print('== 2. the same run again changes nothing')
    result = harness.module(**options)
    check(not result.get('failed'), 'the second run failed: %s' % result.get('msg'))
    check(not result['changed'] and not result['package_installed'] and not result['configured'],
          'the second run changed something: %s' % json.dumps(result))
    check(harness.snapshot() == before, 'the second run rewrote the configuration, token or certificate')

    print('== 3. the installed program runs')
    completed = subprocess.run(['/usr/bin/ftupgrade-agent', '--version'], capture_output=True, text=True)
    check(completed.returncode == 0, '/usr/bin/ftupgrade-agent --version failed: %s' % completed.stderr)
    return 0


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--bin', required=True)
    parser.add_argument('--source', required=True)
    parser.add_argument('--build', required=True)
    parser.add_argument('--inside', action='store_true', help=argparse.SUPPRESS)
    parser.add_argument('--deb', help=argparse.SUPPRESS)
    parser.add_argument('--work', help=argparse.SUPPRESS)
    parser.add_argument('--scratch', help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inside:
        try:
            return inside(args)
        except Failure as failure:
            print('FAILED: %s' % failure)
            return 1

    if os.geteuid() != 0:
        skip('installing a .deb needs root (CI runs as root)')
    for tool in ('unshare', 'cpack', 'ansible-playbook', 'dpkg-deb', 'apt-get'):
        if not shutil.which(tool):
            skip('%s is not installed' % tool)
    if installed_here('ftupgrade-agent'):
        skip('ftupgrade-agent is installed on this machine; the test would not see a first installation')
    probe = subprocess.run(['unshare', '--mount', '--propagation', 'private', 'sh', '-c',
                            'd=$(mktemp -d) && mount -t tmpfs tmpfs "$d" && mkdir "$d/u" "$d/w" "$d/m" && '
                            'mount -t overlay overlay -o lowerdir=/etc,upperdir="$d/u",workdir="$d/w" "$d/m"; '
                            'r=$?; umount -R "$d" 2>/dev/null; rmdir "$d"; exit $r'], capture_output=True)
    if probe.returncode != 0:
        skip('no private mount namespace with overlayfs here: %s' % probe.stderr.decode().strip())

    work = tempfile.mkdtemp(prefix='ft-node-agent-deb-')
    try:
        deb = make_deb(args.build, os.path.join(work, 'package'))
        scratch = os.path.join(work, 'scratch')
        os.makedirs(scratch)
        completed = subprocess.run(['unshare', '--mount', '--propagation', 'private', sys.executable,
                                    os.path.abspath(__file__), '--inside', '--bin', args.bin,
                                    '--source', args.source, '--build', args.build, '--deb', deb,
                                    '--work', os.path.join(work, 'inside'), '--scratch', scratch])
        if completed.returncode != 0:
            return completed.returncode
        check(not installed_here('ftupgrade-agent') and not os.path.exists('/etc/ftupgrade-agent'),
              'the installation leaked out of the namespace')
        print('PASSED')
        return 0
    except Failure as failure:
        print('FAILED: %s' % failure)
        return 1
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == '__main__':
    sys.exit(main())
