# -*- coding: utf-8 -*-
# Copyright (c) 2026, msgraph.migrations contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Reads and listings under hostile replies (_graph/client.py, _migration/cancel.py, _migration/model.py):
links that are refused rather than glued, reads answering for another id, listings with tasks
without ids or listed twice, and the caps on pages and items."""

from __future__ import annotations

import pytest

from ansible_collections.msgraph.migrations.plugins.module_utils._core.errors import GraphMigrationsError
from ansible_collections.msgraph.migrations.plugins.module_utils._graph import client as client_module
from ansible_collections.msgraph.migrations.plugins.module_utils._migration.cancel import TaskCanceller
from ansible_collections.msgraph.migrations.plugins.module_utils._migration.model import index_tasks, task_fields

from ansible_collections.msgraph.migrations.tests.unit.fakes import GRAPH, JOB, TASK, FakeTransport, GraphService, job, make_client, reply, task

OTHER = '0c1f7a2e-5d4b-4f8e-9a3c-2b6d8e1f4a70'
TASKS = '/solutions/migrations/crossTenantMigrationJobs/%s/users' % JOB


# ----- @odata.nextLink ----------------------------------------------------------------------------

@pytest.mark.parametrize('link, why', [
    ('/v1.0/things?$skiptoken=a', 'it is relative'),
    ('things?$skiptoken=a', 'it is relative'),
    ('HTTPS://graph.example/v1.0/things?$skiptoken=a', 'its scheme is not https as Graph writes it'),
    ('https://graph.example/v1.0/../beta/things', 'it holds dot segments'),
    ('https://graph.example/v1.0/things?$skiptoken=a b', 'it holds spaces'),
    ('https://other.example/v1.0/things', 'it points to another host'),
    ('https://graph.example/things', 'it is outside API version v1.0'),
    (['https://graph.example/v1.0/things'], 'it is not a string'),
    ({'href': 'x'}, 'it is not a string'),
])
def test_a_next_link_that_is_not_graphs_own_absolute_url_is_refused_not_glued(link, why):
    kit = make_client(FakeTransport(reply(200, {'value': [1], '@odata.nextLink': link})))
    with pytest.raises(GraphMigrationsError) as caught:
        kit.client.list_all('/things')
    message = caught.value.message
    assert why in message and 'was refused; it was not followed' in message and GRAPH + '/v1.0/' in message
    assert kit.transport.urls == [GRAPH + '/v1.0/things'], 'nothing was sent to a glued URL'


def test_a_refused_link_is_shown_scrubbed_and_clipped():
    kit = make_client(FakeTransport(reply(200, {'value': [], '@odata.nextLink': '/v1.0/x?token=client-secret-value-1234' + 'z' * 500})))
    kit.client.redactor.add('client-secret-value-1234')
    with pytest.raises(GraphMigrationsError) as caught:
        kit.client.list_all('/things')
    assert 'client-secret-value' not in caught.value.message and len(caught.value.message) < 500


def test_a_next_link_with_another_case_of_host_is_followed():
    kit = make_client(FakeTransport(reply(200, {'value': [1], '@odata.nextLink': 'https://GRAPH.example/v1.0/things?$skiptoken=a'}),
                                    reply(200, {'value': [2]})))
    items, _last = kit.client.list_all('/things')
    assert items == [1, 2]


def test_our_own_paths_still_go_under_the_root():
    kit = make_client(FakeTransport(reply(200, {})))
    assert kit.client.url_for('/solutions/x') == GRAPH + '/v1.0/solutions/x'
    with pytest.raises(GraphMigrationsError, match='refused'):
        kit.client.url_for('//evil.example/v1.0/x')


# ----- caps -----------------------------------------------------------------------------------------

def test_a_listing_over_the_item_cap_fails_naming_the_cap():
    pages = [reply(200, {'value': [1, 2, 3], '@odata.nextLink': GRAPH + '/v1.0/t?s=%d' % n}) for n in range(3)]
    kit = make_client(FakeTransport(*pages))
    with pytest.raises(GraphMigrationsError) as caught:
        kit.client.list_all('/t', max_items=5)
    assert 'more than 5 items, the most one listing may hold' in caught.value.message
    assert len(kit.transport.sent) == 2, 'stopped at the page that went over'


def test_the_default_caps_are_documented_numbers():
    assert client_module.MAX_LISTED_ITEMS == 20000 and client_module.MAX_PAGES == 2000


def test_a_listing_over_the_page_cap_fails_naming_the_cap(monkeypatch):
    monkeypatch.setattr(client_module, 'MAX_PAGES', 3)
    pages = [reply(200, {'value': [n], '@odata.nextLink': GRAPH + '/v1.0/t?s=%d' % n}) for n in range(4)]
    kit = make_client(FakeTransport(*pages))
    with pytest.raises(GraphMigrationsError, match='more than 3 pages, the most one listing may take'):
        kit.client.list_all('/t')


def test_keep_turns_each_item_as_pages_arrive():
    kit = make_client(FakeTransport(reply(200, {'value': [1, 2], '@odata.nextLink': GRAPH + '/v1.0/t?s=1'}), reply(200, {'value': [3]})))
    items, _last = kit.client.list_all('/t', keep=lambda item: item * 10)
    assert items == [10, 20, 30]


# ----- what a listing keeps of a task, and its ids -------------------------------------------------

def test_a_task_keeps_only_the_fields_the_collection_uses():
    body = task(TASK, updated='2026-12-04T10:00:00Z', Exchange='inProgress')
    body.update({'@odata.context': 'x', 'huge': 'y' * 10000})
    body['currentStatus'][0].update(errors=[{'code': 'MIGR-1', 'message': 'm'}], extra='z')
    assert task_fields(body) == {'id': TASK, 'taskType': 'Users', 'lastUpdatedDateTime': '2026-12-04T10:00:00Z',
                                 'currentStatus': [{'service': 'Exchange', 'status': 'inProgress', 'message': '',
                                                    'errors': [{'code': 'MIGR-1', 'message': 'm'}]}]}
    # Odd shapes stay odd, for the rules to judge.
    assert task_fields({'id': TASK, 'currentStatus': 'completed'}) == {'id': TASK, 'currentStatus': 'completed'}
    assert task_fields({'id': TASK, 'currentStatus': [None, 'x']})['currentStatus'] == [None, 'x']


@pytest.mark.parametrize('bad', [{'currentStatus': []}, {'id': None}, {'id': 42}, {'id': ''}, {'id': 'not-a-guid'}, 'a string', None])
def test_a_listed_task_without_a_usable_id_fails_the_listing(bad):
    with pytest.raises(GraphMigrationsError) as caught:
        index_tasks([task(TASK, Exchange='inProgress'), bad], 'the tasks of job x')
    assert 'returned 1 item(s) without a usable task id (a GUID)' in caught.value.message
    assert 'nothing was judged from the listing' in caught.value.message


def test_a_task_listed_twice_differently_fails_the_listing_naming_it():
    first = task(TASK, Exchange='inProgress')
    second = task(TASK.upper(), Exchange='completed')
    with pytest.raises(GraphMigrationsError) as caught:
        index_tasks([first, task(OTHER, Exchange='inProgress'), second], 'the tasks of job x')
    assert 'returned 1 task(s) more than once with different contents (%s)' % TASK in caught.value.message


def test_a_task_listed_twice_alike_is_taken_once():
    tasks = index_tasks([task(TASK, Exchange='inProgress'), task(OTHER, Exchange='syncing'), task(TASK.upper(), Exchange='inProgress')], 'x')
    assert list(tasks) == [TASK, OTHER]


def test_list_tasks_trims_and_indexes_every_page():
    first_page = {'value': [dict(task(TASK, Exchange='inProgress'), extra=1)], '@odata.nextLink': GRAPH + '/v1.0' + TASKS + '?$skiptoken=2'}
    graph = GraphService().on('GET', TASKS, reply(200, first_page))
    graph.on('GET', TASKS + '?$skiptoken=2', reply(200, {'value': [task(OTHER.upper(), Exchange='syncing')]}))
    kit = make_client(FakeTransport(handler=graph))
    tasks = TaskCanceller(kit.client, kit.warnings.append).list_tasks(JOB, deadline=client_module.NO_DEADLINE)
    assert list(tasks) == [TASK, OTHER] and 'extra' not in tasks[TASK]


# ----- a read that answers for another id ---------------------------------------------------------

def reader_for(*replies):
    kit = make_client(FakeTransport(*replies))
    return TaskCanceller(kit.client, kit.warnings.append)


def test_a_task_read_answering_another_task_is_refused():
    with pytest.raises(GraphMigrationsError) as caught:
        reader_for(reply(200, task(OTHER, Exchange='inProgress'))).read_task(JOB, TASK, client_module.NO_DEADLINE)
    assert caught.value.message.startswith('Reading task %s in job %s returned task %s instead, so the reply was refused' % (TASK, JOB, OTHER))


def test_a_job_read_answering_another_job_is_refused():
    with pytest.raises(GraphMigrationsError, match='returned job %s instead' % OTHER):
        reader_for(reply(200, job(id=OTHER))).read_job(JOB, client_module.NO_DEADLINE)


def test_a_read_answering_the_same_id_in_another_case_is_accepted_and_trimmed():
    body = dict(task(TASK.upper(), Exchange='inProgress'), extra='dropped')
    assert reader_for(reply(200, body)).read_task(JOB, TASK, client_module.NO_DEADLINE) == task(TASK.upper(), Exchange='inProgress')
    assert reader_for(reply(200, job(id=JOB.upper()))).read_job(JOB, client_module.NO_DEADLINE)['id'] == JOB.upper()
