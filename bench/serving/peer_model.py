"""What both peers of bench/serving do per request, in the way MLflow's
pyfunc scoring server does it: parse the JSON body, build a pandas DataFrame
from the dataframe_split (columns and rows), turn it into a float tensor of
the model's input shape, run the TorchScript model without gradients, and
answer {"predictions": [...]} (the arg-max class, as mlforge serve answers a
classifier). Written for this benchmark; no MLflow code.

The model file and its input shape come from the environment:
PEER_MODEL (model.pt) and PEER_SHAPE (e.g. "1,28,28", the shape after the
batch dimension)."""
import json
import os

import pandas
import torch

torch.set_num_threads(1)
MODEL = torch.jit.load(os.environ["PEER_MODEL"])
MODEL.eval()
SHAPE = [int(size) for size in os.environ["PEER_SHAPE"].split(",")]


def score(body: bytes):
    """(status, JSON text) for one /invocations body."""
    try:
        document = json.loads(body)
        split = document["dataframe_split"]
        frame = pandas.DataFrame(split["data"], columns=split.get("columns"))
    except (ValueError, KeyError, TypeError) as error:
        return 400, json.dumps({"error_code": "BAD_REQUEST", "message": str(error)})
    values = torch.from_numpy(frame.to_numpy(dtype="float32")).reshape([-1] + SHAPE)
    with torch.no_grad():
        scores = MODEL(values)
    return 200, json.dumps({"predictions": scores.argmax(dim=1).tolist()})
