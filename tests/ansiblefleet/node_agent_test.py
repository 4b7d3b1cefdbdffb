#!/usr/bin/python3
"""flowtraq.upgrade.node_agent through ansible-playbook, with the real agent, without systemd.

The module configures a real ftupgrade-agent (the build's) for a sandbox installation in a
temporary folder; the service is left unmanaged (CI containers have no systemd as PID 1).
  1. the first run configures: token file and configuration (0600), the fingerprint
     returned is the certificate's SHA-256;
  2. the same run again changes nothing (idempotent);
  3. check mode with a new token says it would change, and changes nothing;
  4. the new token: the configuration is rewritten, the certificate (and so the
     fingerprint) is kept;
  5. another port: only the port differs;
  6. bad input (a short token): a clear failure and nothing changed;
  7. the agent, started on that configuration, serves ftupgrade-cli with the new token
     under the returned fingerprint, and refuses the old token.
Exit 77 (CTest: skipped) when ansible-playbook is not installed.
"""

import argparse
import base64
import hashlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time


class Failure(Exception):
    pass


def check(condition, sentence):
    if not condition:
        raise Failure(sentence)


def free_port():
    with socket.socket() as probe:
        probe.bind(('127.0.0.1', 0))
        return probe.getsockname()[1]


def pem_fingerprint(path):
    with open(path) as handle:
        body = re.search(r'-----BEGIN CERTIFICATE-----(.+?)-----END', handle.read(), re.S).group(1)
    return hashlib.sha256(base64.b64decode(''.join(body.split()))).hexdigest()


class Harness:
    def __init__(self, bin_dir, source, work):
        self.bin = bin_dir
        self.work = work
        self.config = os.path.join(work, 'etc', 'agent.conf')
        self.install = os.path.join(work, 'node')
        self.env = dict(os.environ)
        collection = os.path.join(work, 'collections', 'ansible_collections', 'flowtraq')
        os.makedirs(collection)
        os.symlink(os.path.join(source, 'ansible'), os.path.join(collection, 'upgrade'))
        self.env.update({
            'ANSIBLE_COLLECTIONS_PATH': os.path.join(work, 'collections'),
            'ANSIBLE_LOCAL_TEMP': os.path.join(work, 'ansible-tmp'),
            'ANSIBLE_REMOTE_TEMP': os.path.join(work, 'ansible-tmp'),
            'ANSIBLE_HOME': os.path.join(work, 'ansible-home'),
            'ANSIBLE_NOCOLOR': '1',
            'ANSIBLE_RETRY_FILES_ENABLED': '0',
            'ANSIBLE_STDOUT_CALLBACK': 'default',
            'XDG_DATA_HOME': os.path.join(work, 'data'),
            'XDG_CONFIG_HOME': os.path.join(work, 'config'),
        })
        self.env.pop('FTUPGRADE_TOKEN', None)
        self.runs = 0

    def module(self, check_mode=False, **options):
        """Runs the module once through ansible-playbook; returns (exit code, its result)."""
        self.runs += 1
        result_file = os.path.join(self.work, 'result-%d.json' % self.runs)
        arguments = dict(config=self.config, agent=os.path.join(self.bin, 'ftupgrade-agent'),
                         backend='sandbox', install_dir=self.install, listen='127.0.0.1',
                         staging_dir=os.path.join(self.work, 'staging'), state='unmanaged')
        arguments.update(options)
        # The token travels in a vars file, as it would from Vault, not on a command line.
        variables = os.path.join(self.work, 'vars-%d.json' % self.runs)
        with open(variables, 'w') as handle:
            json.dump({'agent_arguments': arguments, 'result_file': result_file}, handle)
        playbook = os.path.join(self.work, 'agent.yml')
        with open(playbook, 'w') as handle:
            handle.write('''- hosts: localhost
  connection: local
  gather_facts: false
  vars:
    ansible_python_interpreter: /usr/bin/python3
  tasks:
    - name: The agent
      flowtraq.upgrade.node_agent:
        token: "{{ agent_arguments.token }}"
        config: "{{ agent_arguments.config }}"
        agent: "{{ agent_arguments.agent }}"
        backend: "{{ agent_arguments.backend }}"
        install_dir: "{{ agent_arguments.install_dir }}"
        listen: "{{ agent_arguments.listen }}"
        port: "{{ agent_arguments.port }}"
        staging_dir: "{{ agent_arguments.staging_dir }}"
        state: "{{ agent_arguments.state }}"
        deb: "{{ agent_arguments.deb | default(omit) }}"
      register: agent
      ignore_errors: true
    - name: Keep the result
      ansible.builtin.copy:
        content: "{{ agent | to_json }}"
        dest: "{{ result_file }}"
        mode: "0600"
      check_mode: false
''')
        argv = ['ansible-playbook', '-i', 'localhost,', playbook, '-e', '@' + variables]
        if check_mode:
            argv.append('--check')
        completed = subprocess.run(argv, env=self.env, capture_output=True, text=True, timeout=300)
        print(completed.stdout + completed.stderr)
        check(completed.returncode == 0, 'ansible-playbook failed (exit %d)' % completed.returncode)
        with open(result_file) as handle:
            return json.load(handle)

    def snapshot(self):
        files = {}
        for name in ('agent.conf', 'token', 'agent.crt', 'agent.key'):
            path = os.path.join(os.path.dirname(self.config), name)
            if os.path.exists(path):
                with open(path, 'rb') as handle:
                    files[name] = handle.read()
        return files


def run(harness, bin_dir):
    subprocess.run([os.path.join(bin_dir, 'ftsandbox'), 'init', harness.install, '--version', '6.2.1-1200',
                    '--role', 'standalone', '--os', 'linux'], check=True, capture_output=True)
    token = 'first-cluster-token-0123456789'
    new_token = 'second-cluster-token-abcdefghij'
    port = free_port()
    folder = os.path.dirname(harness.config)
    certificate = os.path.join(folder, 'agent.crt')

    print('== 1. first run configures')
    result = harness.module(token=token, port=port)
    check(not result.get('failed'), 'the first run failed: %s' % result.get('msg'))
    check(result['changed'] and result['configured'] and result['token_changed'], 'the first run should configure')
    check(result['fingerprint'] == pem_fingerprint(certificate), 'the fingerprint is not the certificate\'s SHA-256')
    for name in ('agent.conf', 'token', 'agent.key'):
        mode = os.stat(os.path.join(folder, name)).st_mode & 0o777
        check(mode == 0o600, '%s has mode %o, not 600' % (name, mode))
    with open(os.path.join(folder, 'token')) as handle:
        check(handle.read().strip() == token, 'the token file does not hold the token')
    check(token not in open(harness.config).read(), 'the configuration holds the token itself')
    fingerprint = result['fingerprint']

    print('== 2. the same again changes nothing')
    before = harness.snapshot()
    result = harness.module(token=token, port=port)
    check(not result['changed'] and result['differences'] == [], 'the second run changed: %s' % result)
    check(result['fingerprint'] == fingerprint, 'the fingerprint changed')
    check(harness.snapshot() == before, 'the second run touched the files')

    print('== 3. check mode with a new token changes nothing')
    result = harness.module(check_mode=True, token=new_token, port=port)
    check(result['changed'] and 'token' in result['differences'], 'check mode should say the token differs')
    check(harness.snapshot() == before, 'check mode touched the files')

    print('== 4. the new token: configuration rewritten, certificate kept')
    result = harness.module(token=new_token, port=port)
    check(result['changed'] and result['differences'] == ['token'], 'the token change: %s' % result)
    check(result['fingerprint'] == fingerprint, 'the certificate was replaced')
    check(harness.module(token=new_token, port=port)['changed'] is False, 'not idempotent after the token change')

    print('== 5. another port: only the port')
    other_port = free_port()
    result = harness.module(token=new_token, port=other_port)
    check(result['changed'] and result['differences'] == ['port'], 'the port change: %s' % result)
    port = other_port

    print('== 6. a short token: a clear failure, nothing changed')
    before = harness.snapshot()
    result = harness.module(token='short', port=port)
    check(result.get('failed') and 'at least 16 characters' in result.get('msg', ''), 'a short token: %s' % result)
    check(harness.snapshot() == before, 'a refused run touched the files')

    print('== 7. the agent serves with the new token under the returned fingerprint')
    agent = subprocess.Popen([os.path.join(bin_dir, 'ftupgrade-agent'), 'run', '--config', harness.config],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url_file = os.path.join(folder, 'agent.url')
        for dummy in range(100):
            if os.path.exists(url_file):
                break
            time.sleep(0.1)
        check(os.path.exists(url_file), 'the agent did not start')
        cli = [os.path.join(bin_dir, 'ftupgrade-cli'), 'discover', '--portal', '127.0.0.1:%d' % port,
               '--fingerprint', fingerprint]
        good = subprocess.run(cli, env=dict(harness.env, FTUPGRADE_TOKEN=new_token), capture_output=True, text=True)
        check(good.returncode == 0 and json.loads(good.stdout)['nodes'][0]['reachable'],
              'discovery with the new token failed: %s' % good.stderr)
        old = subprocess.run(cli, env=dict(harness.env, FTUPGRADE_TOKEN=token), capture_output=True, text=True)
        check(old.returncode != 0 and 'token' in old.stderr, 'the old token was not refused: %s' % old.stderr)
    finally:
        agent.terminate()
        agent.wait(10)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--bin', required=True)
    parser.add_argument('--source', required=True)
    arguments = parser.parse_args()
    if not shutil.which('ansible-playbook'):
        print('SKIP: ansible-playbook is not installed (Debian package ansible-core).')
        return 77
    work = tempfile.mkdtemp(prefix='ftu-node-agent-')
    try:
        run(Harness(os.path.abspath(arguments.bin), os.path.abspath(arguments.source), work), arguments.bin)
    except Failure as failure:
        print('FAIL: %s' % failure)
        return 1
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print('PASS')
    return 0


if __name__ == '__main__':
    sys.exit(main())
