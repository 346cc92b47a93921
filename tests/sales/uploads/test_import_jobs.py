"""Import jobs: POST /api/v1/imports/ answers 202 with a job that the task engine runs, batch by batch,
one per project at a time; a bad batch fails the job with its problems and where to resume."""

import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django_tasks_db.models import DBTaskResult

from sales.ledger.models import Sale, SaleLine
from sales.uploads.jobs import ERRORS_LISTED, import_job_run
from sales.uploads.models import ImportJob
from tests.sales.uploads.test_import_command import rows_of

pytestmark = pytest.mark.django_db
PATH = "/api/v1/imports/"


@pytest.fixture(autouse=True)
def imports_dir(settings, tmp_path):
    settings.IMPORTS_DIR = tmp_path / "imports"
    settings.IMPORT_BATCH_SIZE = 10
    return settings.IMPORTS_DIR


def document(rows) -> bytes:
    return json.dumps({"sales": rows}).encode()


@pytest.fixture
def post(django_capture_on_commit_callbacks):
    """POST a file as `api`, its job enqueued as after a real commit."""

    def send(api, content: bytes, name="sales.json", **fields):
        with django_capture_on_commit_callbacks(execute=True):
            return api.post(PATH, {"file": SimpleUploadedFile(name, content), **fields}, format="multipart")

    return send


def run_queued():
    for job in ImportJob.objects.filter(status="queued").order_by("created_at"):
        import_job_run(job_id=job.pk)


def test_a_file_is_queued_at_once_then_imported_in_the_background(post, api, project, imports_dir):
    response = post(api, document(rows_of(30)))

    assert response.status_code == 202, response.content
    job = ImportJob.objects.get()
    assert response.json() == {
        "id": str(job.pk), "status": "queued", "file_name": "sales.json", "file_format": "json",
        "file_size": len(document(rows_of(30))), "rows_total": None, "rows_done": 0, "transactions_created": 0,
        "transactions_updated": 0, "errors": [], "error_count": 0, "resume_from": None, "message": "",
        "created_at": job.created_at.isoformat().replace("+00:00", "Z"), "started_at": None, "finished_at": None,
    }  # fmt: skip
    assert not Sale.objects.exists()
    assert DBTaskResult.objects.get().args_kwargs == {"args": [str(job.pk)], "kwargs": {}}
    assert list(imports_dir.iterdir()) == [imports_dir / f"{job.pk}.json"]

    import_job_run(job_id=job.pk)

    body = api.get(f"{PATH}{job.pk}").json()
    assert (body["status"], body["rows_total"], body["rows_done"], body["transactions_created"]) == (
        "succeeded", 30, 30, 10
    )  # fmt: skip
    assert body["started_at"] is not None and body["finished_at"] is not None
    assert (Sale.objects.filter(project=project).count(), SaleLine.objects.count()) == (10, 30)
    assert list(imports_dir.iterdir()) == []  # the file is gone once imported
    assert [item["id"] for item in api.get(PATH).json()["results"]] == [str(job.pk)]


@pytest.mark.parametrize(
    ("name", "fields", "content"),
    [
        ("sales.jsonl", {}, b"".join(json.dumps(row).encode() + b"\n" for row in rows_of(12))),
        ("export.txt", {"format": "csv"},
         b"sale_external_id,sale_date,sale_customer_id,product_id,quantity,unit_price\n"
         + b"".join(f"T{i // 3},2017-12-01,C{i // 3},P{i % 3},1,100\n".encode() for i in range(12))),
    ],
)  # fmt: skip
def test_json_lines_and_csv_as_the_command_reads_them(post, api, name, fields, content):
    assert post(api, content, name=name, **fields).status_code == 202

    run_queued()

    assert ImportJob.objects.values_list("status", "rows_done").get() == ("succeeded", 12)
    assert Sale.objects.count() == 4


def test_the_same_file_twice_changes_nothing_the_second_time(post, api):
    post(api, document(rows_of(30)))
    run_queued()
    post(api, document(rows_of(30)))
    run_queued()

    second = ImportJob.objects.order_by("created_at").last()
    assert (second.status, second.transactions_created, second.transactions_updated) == ("succeeded", 0, 0)
    assert SaleLine.objects.count() == 30


def test_a_bad_batch_fails_the_job_with_its_problems_and_where_to_resume(post, api):
    rows = rows_of(60)
    for index in range(31, 60):
        rows[index] = {**rows[index], "quantity": "lots"}

    post(api, document(rows))
    run_queued()

    job = ImportJob.objects.get()
    # Batches of 10 rows or a little more, never splitting a transaction: rows 0-11, 12-23, 24-35...
    assert (job.status, job.rows_done, job.resume_from, job.error_count) == ("failed", 24, 24, 5)
    assert job.errors[0] == {"row": 31, "field": "quantity", "message": "must be a number."}
    assert "Fix the file and import it again with skip 24" in job.message
    assert SaleLine.objects.count() == 24  # the batches before; nothing of the bad one

    rows[31:] = rows_of(60)[31:]
    response = post(api, document(rows), skip=24)
    run_queued()

    assert response.json()["rows_done"] == 24
    assert ImportJob.objects.order_by("created_at").last().status == "succeeded"
    assert SaleLine.objects.count() == 60


def test_at_most_a_thousand_problems_are_listed_and_all_are_counted(post, api, settings):
    settings.IMPORT_BATCH_SIZE = 5000
    rows = [{**row, "quantity": "lots", "unit_price": "x"} for row in rows_of(600)]

    post(api, document(rows))
    run_queued()

    job = ImportJob.objects.get()
    assert (len(job.errors), job.error_count, job.resume_from) == (ERRORS_LISTED, 1200, 0)


def test_a_file_that_is_not_json_fails_with_what_was_imported(post, api):
    post(api, document(rows_of(30))[:-40])
    run_queued()

    job = ImportJob.objects.get()
    assert (job.status, job.resume_from) == ("failed", 0)
    assert job.message.startswith("The file can't be read on: not valid JSON")
    assert not Sale.objects.exists()


def test_one_job_per_project_runs_at_a_time(post, api, other_api):
    post(api, document(rows_of(3)))
    post(api, document(rows_of(6)))
    post(other_api, document(rows_of(3)))
    first, second = ImportJob.objects.filter(project=api.project).order_by("created_at")
    ImportJob.objects.filter(pk=first.pk).update(status="running")  # as its worker holds it

    assert import_job_run(job_id=second.pk) is None
    assert ImportJob.objects.get(pk=second.pk).status == "queued"
    tasks = [result.args_kwargs["args"] for result in DBTaskResult.objects.all()]
    assert tasks.count([str(second.pk)]) == 2  # enqueued when posted, and again to try later
    other = ImportJob.objects.get(project=other_api.project)
    assert import_job_run(job_id=other.pk).status == "succeeded"  # another project's job is not held up

    ImportJob.objects.filter(pk=first.pk).update(status="queued")
    run_queued()
    assert set(ImportJob.objects.values_list("status", flat=True)) == {"succeeded"}


def test_a_job_left_running_by_a_dead_worker_is_queued_again_from_its_last_batch(post, api, db):
    post(api, document(rows_of(30)))
    job = ImportJob.objects.get()
    ImportJob.objects.filter(pk=job.pk).update(status="running", rows_done=0)

    call_command("import_jobs_recover", stdout=(out := __import__("io").StringIO()))

    assert "1 import job recovered." in out.getvalue()
    assert ImportJob.objects.get().status == "queued"
    run_queued()
    assert ImportJob.objects.get().status == "succeeded"


@pytest.mark.parametrize(
    ("fields", "name", "content", "expected"),
    [
        ({}, "sales.xlsx", b"x",
         {"format": ["Can't tell the file's format from its name; send format json, jsonl or csv."]}),
        ({"format": "xml"}, "sales.json", b"x", {"format": ['"xml" is not a valid choice.']}),
        ({"skip": -1}, "sales.json", b"x", {"skip": ["Ensure this value is greater than or equal to 0."]}),
        ({}, "sales.json", b"", {"file": ["The submitted file is empty."]}),
    ],
)  # fmt: skip
def test_refused_files_are_400_and_queue_nothing(post, api, fields, name, content, expected):
    response = post(api, content, name=name, **fields)

    assert response.status_code == 400
    assert response.json() == expected
    assert not ImportJob.objects.exists()


def test_another_projects_job_is_404(post, api, other_api):
    post(api, document(rows_of(3)))
    job = ImportJob.objects.get()

    assert other_api.get(f"{PATH}{job.pk}").status_code == 404
    assert other_api.get(PATH).json()["results"] == []


# The owner page -----------------------------------------------------------------------------------


def test_the_owner_page_queues_a_file_and_lists_the_projects_imports(client, owner, project, other_project,
                                                                     django_capture_on_commit_callbacks):  # fmt: skip
    client.force_login(owner)
    page = f"/projects/{project.slug}/imports/"

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(page, {"file": SimpleUploadedFile("shop.jsonl", b'{"sale_external_id": "S1"}\n')})

    assert (response.status_code, response["Location"]) == (302, page)
    job = ImportJob.objects.get()
    assert (job.project, job.user, job.api_key, job.file_format) == (project, owner, None, "jsonl")
    listed = client.get(page)
    assert listed.status_code == 200
    assert f'data-job="{job.pk}"' in listed.content.decode()
    assert client.get(f"{page}{job.pk}.json").json()["status"] == "queued"
    assert client.get(f"/projects/{other_project.slug}/imports/").status_code == 404


def test_the_owner_page_refuses_a_file_on_its_field(client, owner, project):
    client.force_login(owner)

    response = client.post(f"/projects/{project.slug}/imports/", {"file": SimpleUploadedFile("shop.xlsx", b"x")})

    assert response.status_code == 400
    assert response.context["form"].errors == {
        "format": ["Can't tell the file's format from its name; send format json, jsonl or csv."]
    }
    assert not ImportJob.objects.exists()


def test_another_owner_cant_follow_a_job(client, post, api, other_project):
    post(api, document(rows_of(3)))
    job = ImportJob.objects.get()
    client.force_login(other_project.owners.get())

    assert client.get(f"/projects/{api.project.slug}/imports/{job.pk}.json").status_code == 404


def test_a_job_id_that_is_not_a_uuid_is_404(api):
    assert api.get(f"{PATH}not-a-uuid").status_code == 404


def test_a_chunked_file_is_411_never_read_into_memory(api):
    stream = io.BytesIO(b"x" * 1000)
    response = api.post(PATH, content_type="multipart/form-data; boundary=x", CONTENT_LENGTH="",
                        HTTP_TRANSFER_ENCODING="chunked", **{"wsgi.input": stream})  # fmt: skip

    assert response.status_code == 411
    assert response.json() == {"detail": "Send the file with a Content-Length (not Transfer-Encoding: chunked)."}
    assert stream.tell() == 0
    assert not ImportJob.objects.exists()
