# -*- coding: utf-8 -*-
# Copyright (c) 2026, msgraph.migrations contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Fragments of secrets (_core/redact.py) and whole results (_ansible/module.py): a token cut short by a
server still never reaches a result, while ids, dates, request-ids and paths stay readable."""

from __future__ import annotations

import secrets
import uuid

import pytest

from ansible_collections.msgraph.migrations.plugins.module_utils._ansible.module import GraphModule
from ansible_collections.msgraph.migrations.plugins.module_utils._core.errors import GraphMigrationsError
from ansible_collections.msgraph.migrations.plugins.module_utils._core.redact import FRAGMENT_CHARS, MASK, Redactor

from ansible_collections.msgraph.migrations.tests.unit.fakes import CLIENT_ID, JOB, TASK, TENANT
from ansible_collections.msgraph.migrations.tests.unit.module_harness import FailJson, Harness

TOKEN = 'emu.' + 'Qm9vbGVhbi1UcnVlLTQ0LWtleS1oZXJlLXNlY3JldA_x7Zp'
JWT_HEADER = 'eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCIsIng1dCI6IjEyMyJ9'
JWT_PAYLOAD = 'eyJhdWQiOiJodHRwczovL2xvZ2luLmV4YW1wbGUiLCJpc3MiOiJhcHAiLCJleHAiOjE3OTk5OTk5OTl9'
JWT_SIGNATURE = 'Zm9vYmFyQmF6UXV4MTIzNDU2Nzg5MGFiY2RlZmdoaWprbG1ub3BxcnN0dXZ3eHl6QUJDRA'
ASSERTION = '%s.%s.%s' % (JWT_HEADER, JWT_PAYLOAD, JWT_SIGNATURE)


def scrubber(*values):
    redactor = Redactor()
    for value in values:
        redactor.add(value)
    return redactor


def longest_run_of(value, text):
    """The length of the longest piece of ``value`` that appears in ``text``."""
    best = 0
    for start in range(len(value)):
        length = best + 1
        while start + length <= len(value) and value[start:start + length] in text:
            best = length
            length += 1
    return best


@pytest.mark.parametrize('cut', [(3, 3), (1, 0), (0, 5), (10, 10), (20, 0)])
def test_a_registered_token_cut_at_either_end_is_masked(cut):
    head, tail = cut
    fragment = TOKEN[head:len(TOKEN) - tail]
    text = scrubber(TOKEN).scrub('The request could not be processed. authorization: %s (end)' % fragment)
    assert longest_run_of(TOKEN, text) < FRAGMENT_CHARS and MASK in text
    assert text.startswith('The request could not be processed. authorization: ') and text.endswith(' (end)')


def test_a_fragment_inside_a_word_is_masked_and_two_fragments_each():
    redactor = scrubber(TOKEN)
    text = redactor.scrub('x%sy and then %s' % (TOKEN[5:30], TOKEN[20:]))
    assert longest_run_of(TOKEN, text) < FRAGMENT_CHARS and text.count(MASK) == 2


def test_short_pieces_of_a_secret_and_short_secrets_stay_exact():
    """A piece under FRAGMENT_CHARS is ordinary text; a short secret is masked whole only."""
    redactor = scrubber(TOKEN, 'short-pw')
    assert redactor.scrub('prefix %s suffix' % TOKEN[4:4 + FRAGMENT_CHARS - 1]) == 'prefix %s suffix' % TOKEN[4:4 + FRAGMENT_CHARS - 1]
    assert redactor.scrub('pw=short-pw; short-p') == 'pw=%s; short-p' % MASK


@pytest.mark.parametrize('shown', [
    ASSERTION[5:],                                   # start cut off: the header's remainder, payload, signature
    ASSERTION[len(JWT_HEADER) + 4:],                 # cut into the payload
    ASSERTION[:-7],                                  # end cut off
    ASSERTION[9:-9],
])
def test_an_unregistered_jwt_cut_at_either_end_is_masked_by_its_shape(shown):
    text = Redactor().scrub('assertion=%s&grant_type=client_credentials' % shown)
    assert longest_run_of(ASSERTION, text) < FRAGMENT_CHARS, text
    assert text.endswith('&grant_type=client_credentials')


@pytest.mark.parametrize('ordinary', [
    JOB, TASK.upper(), '35817a63-200f-44f5-b68f-1d90d80867c6',
    '2026-12-04T13:06:58.1234567Z', '2026-12-04T13:06:58Z',
    '/v1.0/solutions/migrations/crossTenantMigrationJobs/%s/users/%s/cancel' % (JOB, TASK),
    "https://graph.microsoft.com/v1.0/$metadata#solutions/migrations/crossTenantMigrationJobs('%s')/users/$entity" % JOB,
    'request-id: 0f1e2d3c-4b5a-4697-8877-a1b2c3d4e5f6, client-request-id: 9a8b7c6d-5e4f-4a3b-9c2d-1e0f2a3b4c5d',
    'Check the task with msgraph.migrations.crosstenant_migration_task_info before sending it again.',
    'The app needs the Graph permission CrossTenantContentMigration.ReadWrite.All, granted with admin consent.',
    'createdBy: migration_administrator.contosoenterprise@contoso.com',
    'Cancel is not possible. Current status is completed',
])
def test_ids_dates_request_ids_paths_and_words_are_never_masked(ordinary):
    redactor = scrubber(TOKEN, ASSERTION, 'e2e-Client-Secret-7Qx9')
    assert redactor.scrub(ordinary) == ordinary


def test_scrub_data_scrubs_every_string_keys_included_and_keeps_other_values():
    redactor = scrubber(TOKEN)
    result = {'changed': True, 'count': 3, 'ratio': 0.5, 'none': None,
              'results': [{'message': 'echo: %s' % TOKEN[2:-2], 'error': {'message': TOKEN[:-3]}, 'ok': False}],
              TOKEN[3:]: ['kept', (TOKEN[1:], 7)]}
    clean = redactor.scrub_data(result)
    assert TOKEN[5:5 + FRAGMENT_CHARS] not in repr(clean)
    assert clean['changed'] is True and clean['count'] == 3 and clean['ratio'] == 0.5 and clean['none'] is None
    assert clean['results'][0] == {'message': 'echo: %s' % MASK, 'error': {'message': MASK}, 'ok': False}
    assert clean[MASK] == ['kept', [MASK, 7]]


def distinct_strings(data, found):
    if isinstance(data, str):
        found.add(data)
    elif isinstance(data, dict):
        for key, value in data.items():
            distinct_strings(key, found)
            distinct_strings(value, found)
    elif isinstance(data, list):
        for item in data:
            distinct_strings(item, found)
    return found


def test_scrubbing_a_5000_task_result_scrubs_each_distinct_string_once(monkeypatch):
    """No timing asserted: the cost is bounded by scrubbing each distinct string once (about 0.2 s for
    5,000 results on the development machine), not once per occurrence."""
    redactor = scrubber('e2e-Client-Secret-7Qx9', TOKEN, ASSERTION,
                        '-----BEGIN PRIVATE KEY-----\n' + '\n'.join(secrets.token_urlsafe(48) for _line in range(26)))
    tasks = []
    for _index in range(5000):
        task_id = str(uuid.uuid4())
        tasks.append({'task_id': task_id, 'outcome': 'cancelled', 'status_code': 202, 'request_id': str(uuid.uuid4()),
                      'message': 'Graph accepted the cancel (HTTP 202).', 'cancel_sent': True, 'in_doubt': False,
                      'cancel_response': {'status': 'Accepted', 'message': 'Cancellation request for user id: %s was accepted.' % task_id},
                      'task': {'id': task_id, 'lastUpdatedDateTime': '2026-12-04T13:06:58Z',
                               'currentStatus': [{'service': s, 'status': 'inProgress', 'message': '', 'errors': []}
                                                 for s in ('Exchange', 'ODSP', 'Teams')]}})
    result = {'changed': True, 'results': tasks}
    scrubbed = []
    real_scrub = redactor._scrub  # pylint: disable=protected-access
    monkeypatch.setattr(redactor, '_scrub', lambda text: scrubbed.append(text) or real_scrub(text))
    assert redactor.scrub_data(result) == result, 'nothing in it is a secret: nothing changes'
    assert sorted(scrubbed) == sorted(distinct_strings(result, set()))


# ----- the module base scrubs whole results --------------------------------------------------------

SECRET = 'client-secret-value-1234'
CREDENTIALS = dict(tenant_id=TENANT, client_id=CLIENT_ID, client_secret=SECRET)


def module_main(work):
    def main():
        module = GraphModule(dict(job_id=dict(type='str', required=True)))
        module.run(lambda session: work(module, session))

    return main


def test_a_success_result_carries_no_fragment_of_a_registered_token(monkeypatch):
    def work(module, _session):
        module.redactor.add(TOKEN)
        return dict(changed=True, results=[{'message': 'Graph said %s' % TOKEN[3:-3], 'task': {'note': TOKEN[:-4]}}])

    harness = Harness(monkeypatch)
    result = harness.run(module_main(work), dict(job_id=JOB, **CREDENTIALS))
    assert TOKEN[4:4 + FRAGMENT_CHARS] not in repr(result)
    assert result['results'] == [{'message': 'Graph said %s' % MASK, 'task': {'note': MASK}}]


def test_a_failure_result_carries_no_fragment_in_msg_error_or_results(monkeypatch):
    def work(module, _session):
        module.redactor.add(TOKEN)
        raise GraphMigrationsError('refused: %s' % TOKEN[2:], error={'code': 'Conflict', 'message': TOKEN[:-2]},
                                   results=[{'error': {'message': 'x %s y' % TOKEN[6:-6]}}])

    harness = Harness(monkeypatch)
    with pytest.raises(FailJson) as caught:
        harness.run(module_main(work), dict(job_id=JOB, **CREDENTIALS))
    result = caught.value.result
    assert TOKEN[6:6 + FRAGMENT_CHARS] not in repr(result)
    assert result['msg'] == 'refused: %s' % MASK and result['error'] == {'code': 'Conflict', 'message': MASK}
    assert result['results'] == [{'error': {'message': 'x %s y' % MASK}}]
