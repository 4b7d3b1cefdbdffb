#!/usr/bin/python3
"""The fleet playbook (ansible/playbooks/upgrade-fleet.yml) against three sandbox clusters.

Three clusters (portal + 1 worker each) are started with `ftsandbox up`, and the playbook
runs with `ansible-playbook -i inventory` on the controller (localhost):
  1. check mode changes nothing (every node stays at its version) and plans work;
  2. a real run upgrades all three and writes their reports (HTML and JSON);
  3. a second run reports changed=0;
  4. a newer package that fails, given to the second cluster, halts the fleet: the first
     cluster is upgraded, the second left as it was, the third untouched.
The first cluster's token comes from Ansible Vault, the others' from token files.
Exit 77 (CTest: skipped) when ansible-playbook is not installed.
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

OLD = '6.2.1-1200'
NEW = '6.3.0-1500'
NEWER = '6.4.0-1600'
CLUSTERS = ['site-a', 'site-b', 'site-c']


class Failure(Exception):
    pass


def check(condition, sentence):
    if not condition:
        raise Failure(sentence)


class Fleet:
    def __init__(self, bin_dir, source_dir, work):
        self.bin = bin_dir
        self.source = source_dir
        self.work = work
        self.reports = os.path.join(work, 'reports')
        self.env = dict(os.environ)
        # The CLI's history, journals and logs, and Ansible's own files, stay in the test's folder.
        self.env.update({
            'XDG_DATA_HOME': os.path.join(work, 'data'),
            'XDG_CONFIG_HOME': os.path.join(work, 'config'),
            'ANSIBLE_COLLECTIONS_PATH': os.path.join(work, 'collections'),
            'ANSIBLE_LOCAL_TEMP': os.path.join(work, 'ansible-tmp'),
            'ANSIBLE_REMOTE_TEMP': os.path.join(work, 'ansible-tmp'),
            'ANSIBLE_HOME': os.path.join(work, 'ansible-home'),
            'ANSIBLE_NOCOLOR': '1',
            'ANSIBLE_RETRY_FILES_ENABLED': '0',
            'ANSIBLE_STDOUT_CALLBACK': 'default',
            'PATH': self.bin + os.pathsep + os.environ.get('PATH', ''),
        })
        self.env.pop('FTUPGRADE_TOKEN', None)
        self.clusters = {}

    def tool(self, *arguments):
        completed = subprocess.run([os.path.join(self.bin, arguments[0])] + list(arguments[1:]),
                                   env=self.env, capture_output=True, text=True, timeout=300)
        if completed.returncode != 0:
            raise Failure('%s failed (%d): %s' % (' '.join(arguments), completed.returncode, completed.stderr))
        return completed.stdout

    def setup(self):
        # The collection where Ansible looks for it: ansible_collections/flowtraq/upgrade.
        collection = os.path.join(self.work, 'collections', 'ansible_collections', 'flowtraq')
        os.makedirs(collection)
        os.symlink(os.path.join(self.source, 'ansible'), os.path.join(collection, 'upgrade'))
        self.packages = {}
        for name, version, mode in (('server', NEW, 'normal'), ('newer', NEWER, 'normal'),
                                    ('newer-fail', NEWER, 'fail')):
            path = os.path.join(self.work, name + '.ftpkg')
            self.tool('ftsandbox', 'make-package', '--version', version, '--component', 'server',
                      '--mode', mode, '-o', path)
            self.packages[name] = path
        for name in CLUSTERS:
            folder = os.path.join(self.work, name)
            self.tool('ftsandbox', 'up', folder, '--workers', '1', '--version', OLD)
            with open(os.path.join(folder, 'cluster.json')) as handle:
                self.clusters[name] = json.load(handle)

    def teardown(self):
        for name in CLUSTERS:
            folder = os.path.join(self.work, name)
            if os.path.exists(os.path.join(folder, 'cluster.json')):
                subprocess.run([os.path.join(self.bin, 'ftsandbox'), 'down', folder], env=self.env,
                               capture_output=True, timeout=120)

    def versions(self, name):
        """Each node's installed server version, as its install folder says."""
        result = {}
        for node in self.clusters[name]['nodes']:
            with open(os.path.join(node['install'], 'VERSION')) as handle:
                result[node['name']] = handle.read().strip()
        return result

    def write_inventory(self, overrides=None):
        password_file = os.path.join(self.work, 'vault-password')
        with open(password_file, 'w') as handle:
            handle.write('fleet-test-vault-password\n')
        lines = ['clusters:', '  vars:', '    ansible_connection: local',
                 '    ansible_python_interpreter: /usr/bin/python3', '  hosts:']
        for index, name in enumerate(CLUSTERS):
            cluster = self.clusters[name]
            portal = next(node for node in cluster['nodes'] if node['role'] == 'portal')
            address = lambda node: re.sub(r'^https://', '', node['agent']['url']).rstrip('/')
            lines += ['    %s:' % name,
                      '      ftu_portal: "%s"' % address(portal),
                      '      ftu_fingerprint: "%s"' % portal['agent']['fingerprint'],
                      '      ftu_node_fingerprints:']
            for node in cluster['nodes']:
                if node is not portal:
                    lines.append('        "%s": "%s"' % (address(node), node['agent']['fingerprint']))
            if index == 0:
                # The token from Ansible Vault.
                encrypted = subprocess.run(
                    ['ansible-vault', 'encrypt_string', '--vault-password-file', password_file,
                     '--name', 'ftu_token', cluster['token']],
                    env=self.env, capture_output=True, text=True, check=True).stdout
                lines += ['      ' + line for line in encrypted.strip().splitlines()]
            else:
                token_file = os.path.join(self.work, name + '.token')
                with open(token_file, 'w') as handle:
                    handle.write(cluster['token'] + '\n')
                os.chmod(token_file, 0o600)
                lines.append('      ftu_token_file: "%s"' % token_file)
            for key, value in (overrides or {}).get(name, {}).items():
                lines.append('      %s: "%s"' % (key, value))
        path = os.path.join(self.work, 'inventory.yml')
        with open(path, 'w') as handle:
            handle.write('\n'.join(lines) + '\n')
        return path, password_file

    def playbook(self, *extra, overrides=None):
        inventory, password_file = self.write_inventory(overrides)
        argv = ['ansible-playbook', '-i', inventory, '--vault-password-file', password_file,
                os.path.join(self.source, 'ansible', 'playbooks', 'upgrade-fleet.yml'),
                '-e', 'fleet_server_package=%s' % self.packages['server'],
                '-e', 'fleet_report_dir=%s' % self.reports] + list(extra)
        completed = subprocess.run(argv, env=self.env, capture_output=True, text=True, timeout=900)
        output = completed.stdout + completed.stderr
        print(output)
        recap = {}
        for match in re.finditer(r'^(\S+)\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)',
                                 completed.stdout, re.M):
            recap[match.group(1)] = dict(ok=int(match.group(2)), changed=int(match.group(3)),
                                         failed=int(match.group(5)))
        return completed.returncode, recap, output


def run(fleet):
    fleet.setup()
    for name in CLUSTERS:
        check(set(fleet.versions(name).values()) == {OLD}, '%s does not start at %s' % (name, OLD))

    print('== 1. check mode: plans only')
    rc, recap, output = fleet.playbook('--check')
    check(rc == 0, 'the check-mode run failed (exit %d)' % rc)
    for name in CLUSTERS:
        check(recap.get(name, {}).get('changed') == 1, '%s: check mode should report the planned work' % name)
        check(set(fleet.versions(name).values()) == {OLD}, '%s changed in check mode: %s' % (name, fleet.versions(name)))
    check(not os.path.exists(fleet.reports), 'check mode wrote reports')

    print('== 2. real run: all three upgraded')
    rc, recap, output = fleet.playbook()
    check(rc == 0, 'the real run failed (exit %d)' % rc)
    for name in CLUSTERS:
        check(recap.get(name, {}).get('changed') == 1, '%s: the real run should report changed' % name)
        check(set(fleet.versions(name).values()) == {NEW}, '%s not upgraded: %s' % (name, fleet.versions(name)))
        with open(os.path.join(fleet.reports, name + '.json')) as handle:
            report = json.load(handle)
        cells = report['verification']['cells']
        check(report['state'] == 'completed', '%s: the report says %s' % (name, report['state']))
        check(sorted(cell['node'] for cell in cells if cell['verdict'] == 'upgraded') == ['portal', 'w1'],
              '%s: the report\'s matrix does not show both nodes upgraded' % name)
        with open(os.path.join(fleet.reports, name + '.html')) as handle:
            check('<html' in handle.read().lower(), '%s: the HTML report is not HTML' % name)
    check(fleet.clusters['site-a']['token'] not in output, 'the Vault token appears in the output')

    print('== 3. second run: nothing to do')
    rc, recap, output = fleet.playbook()
    check(rc == 0, 'the second run failed (exit %d)' % rc)
    for name in CLUSTERS:
        check(recap.get(name, {}).get('changed') == 0, '%s: the second run should report changed=0' % name)
        check(set(fleet.versions(name).values()) == {NEW}, '%s changed: %s' % (name, fleet.versions(name)))

    print('== 4. a failing package on the second cluster halts the fleet')
    rc, recap, output = fleet.playbook('-e', 'fleet_server_package=%s' % fleet.packages['newer'],
                                       overrides={'site-b': {'ftu_server_package': fleet.packages['newer-fail']}})
    check(rc != 0, 'the run with a failing package succeeded')
    check(recap.get('site-a', {}).get('changed') == 1, 'site-a should have been upgraded first')
    check(set(fleet.versions('site-a').values()) == {NEWER}, 'site-a not upgraded: %s' % fleet.versions('site-a'))
    check(recap.get('site-b', {}).get('failed') == 1, 'site-b should have failed')
    check(set(fleet.versions('site-b').values()) == {NEW}, 'site-b not left as it was: %s' % fleet.versions('site-b'))
    check('site-c' not in recap, 'site-c should not have been reached: %s' % recap)
    check(set(fleet.versions('site-c').values()) == {NEW}, 'site-c was touched: %s' % fleet.versions('site-c'))
    with open(os.path.join(fleet.reports, 'site-b.json')) as handle:
        report = json.load(handle)
    check(report['state'] != 'completed', 'site-b\'s report should show the halted run, not %s' % report['state'])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--bin', required=True, help='the folder with ftsandbox and ftupgrade-cli')
    parser.add_argument('--source', required=True, help='the source tree (with ansible/)')
    parser.add_argument('--keep', action='store_true', help='keep the work folder')
    arguments = parser.parse_args()
    if not shutil.which('ansible-playbook'):
        print('SKIP: ansible-playbook is not installed (Debian package ansible-core).')
        return 77
    for tool in ('ftsandbox', 'ftupgrade-cli', 'ftupgrade-agent'):
        if not os.path.exists(os.path.join(arguments.bin, tool)):
            print('SKIP: %s is not built.' % tool)
            return 77
    work = tempfile.mkdtemp(prefix='ftu-fleet-')
    fleet = Fleet(os.path.abspath(arguments.bin), os.path.abspath(arguments.source), work)
    try:
        run(fleet)
    except Failure as failure:
        print('FAIL: %s' % failure)
        return 1
    finally:
        fleet.teardown()
        if not arguments.keep:
            shutil.rmtree(work, ignore_errors=True)
    print('PASS')
    return 0


if __name__ == '__main__':
    sys.exit(main())
