"""/v1/alerts: saved searches that fire as articles arrive, as ``newsflow alerts`` manages them.

Both call ``AlertStore`` (shared/search/alerts.py): an alert is written in the filter language of
/v1/articles and stored as the percolator query that search would run."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, Response

from services.api import models
from services.api.access import check_rate
from services.api.api import require_key
from services.api.params import MAX_PAGE_SIZE
from shared.search.alerts import AlertExists, AlertRefused, AlertSpec, AlertStore, SavedSearch

NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": models.Problem}}
router = APIRouter(prefix="/v1/alerts", dependencies=[Depends(require_key), Depends(check_rate)], tags=["alerts"])
AlertId = Annotated[str, Path(max_length=64)]


def alert_store(request: Request) -> AlertStore:
    found: AlertStore = request.app.state.alerts
    return found


Store = Annotated[AlertStore, Depends(alert_store)]


@router.post(
    "",
    status_code=201,
    response_model=SavedSearch,
    responses={409: {"model": models.Problem, "description": "The chosen id is taken"}},
)
def create_alert(store: Store, spec: AlertSpec) -> SavedSearch:
    """Save a search as an alert. The answer carries the webhook's signing secret: the only time it is shown."""
    try:
        return store.add(spec)
    except AlertExists as error:
        raise HTTPException(409, detail=str(error)) from None
    except AlertRefused as error:
        raise HTTPException(422, detail=str(error)) from None


@router.get("", response_model=list[SavedSearch])
def list_alerts(store: Store) -> list[dict[str, Any]]:
    """Every alert, by id (webhook secrets hidden)."""
    return [alert.public() for alert in store.all()]


@router.get("/{alert_id}", response_model=models.AlertShown, responses=NOT_FOUND)
def show_alert(store: Store, alert_id: AlertId) -> models.AlertShown:
    """One alert, with the percolator query it is stored as (webhook secret hidden)."""
    alert = _found(store, alert_id)
    return models.AlertShown.model_validate({**alert.public(), "query": alert.percolator_query()})


@router.delete("/{alert_id}", status_code=204, response_class=Response, responses=NOT_FOUND)
def delete_alert(store: Store, alert_id: AlertId) -> Response:
    """Delete an alert: it fires no more, and its pending webhook deliveries are dropped."""
    if not store.remove(alert_id):
        raise HTTPException(404, detail=f"no alert {alert_id!r}")
    return Response(status_code=204)


@router.get("/{alert_id}/test", response_model=models.AlertTest, responses=NOT_FOUND)
def matching_articles(
    store: Store, alert_id: AlertId, size: Annotated[int, Query(ge=0, le=MAX_PAGE_SIZE)] = 10
) -> models.AlertTest:
    """Which already indexed articles the alert matches, newest first (the story size is not counted here)."""
    alert = _found(store, alert_id)
    total, hits = store.test(alert, size)
    return models.AlertTest(alert_id=alert.alert_id, total=total, articles=[models.article(hit) for hit in hits])


def _found(store: AlertStore, alert_id: str) -> SavedSearch:
    alert = store.get(alert_id)
    if alert is None:
        raise HTTPException(404, detail=f"no alert {alert_id!r}")
    return alert
