"""bench/serving peer (b): the FastAPI app newer MLflow versions serve with
uvicorn; the work per request is peer_model.score.
Run: python3 -m uvicorn --app-dir bench/serving peer_fastapi:app --workers 2 --port PORT"""
from fastapi import FastAPI, Request, Response

from peer_model import score

app = FastAPI()


@app.get("/ping")
async def ping():
    return Response("\n", media_type="application/json")


@app.post("/invocations")
async def invocations(request: Request):
    status, text = score(await request.body())
    return Response(text, status_code=status, media_type="application/json")
