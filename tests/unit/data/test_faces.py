"""The face renderers: one physical model, deterministic frames, eyes that follow the target, people kept apart."""

from __future__ import annotations

import math
from dataclasses import replace

import cv2
import numpy as np
import pytest

from gazesite.data import faces
from gazesite.data.faces import augment, cartoon, geometry, looks, raycast_model, studio_model, vector_model
from gazesite.track.pipeline import process_frame

ALL = faces.RENDERER_NAMES


def rig_facing(target: tuple[float, float], eye: int = 0, distance: float = 0.5, **head: float) -> geometry.Rig:
    """A rig whose eye ``eye`` sits straight in front of ``target``, head pose as given, no kappa."""
    rng = np.random.default_rng(0)
    base = geometry.random_rig(rng)
    point = geometry.target_point(base.screen, target)
    eyes = replace(base.eyes, kappa_h=0.0, kappa_v=0.0)
    offset = -geometry.SIDES[eye] * eyes.ipd / 2
    pose = {"yaw": 0.0, "pitch": 0.0, "roll": 0.0, **head}
    rot = geometry.rotation_matrix(pose["yaw"], pose["pitch"], pose["roll"])
    # Put the head so that the eye's centre (not the head's) lands in front of the target.
    position = point + np.array([0.0, 0.0, -distance]) + rot @ np.array([offset, 0.0, 0.0])
    return replace(base, eyes=eyes, head=geometry.Head(tuple(position), pose["yaw"], pose["pitch"], pose["roll"]))


# ---------------------------------------------------------------- geometry


def test_looking_straight_ahead_needs_no_eye_rotation() -> None:
    rig = rig_facing((0.3, 0.6), eye=1)
    yaw, pitch = geometry.eye_rotations(rig, (0.3, 0.6))[1]
    assert abs(yaw) < 1e-9 and abs(pitch) < 1e-9


def test_eyes_counter_rotate_the_head_and_kappa_offsets_the_optical_axis() -> None:
    turned = rig_facing((0.5, 0.5), eye=0, yaw=math.radians(10))
    yaw, pitch = geometry.eye_rotations(turned, (0.5, 0.5))[0]
    assert yaw == pytest.approx(math.radians(-10)) and pitch == pytest.approx(0)
    rig = rig_facing((0.5, 0.5), eye=0, yaw=math.radians(10), pitch=math.radians(-5), roll=math.radians(3))
    np.testing.assert_allclose(geometry.optical_axes(rig, (0.5, 0.5))[0], [0, 0, 1], atol=1e-9)  # still at the world point
    kappa = replace(rig, eyes=replace(rig.eyes, kappa_h=math.radians(4), kappa_v=math.radians(1)))
    for side, (k_yaw, k_pitch), (n_yaw, n_pitch) in zip(
        geometry.SIDES, geometry.eye_rotations(kappa, (0.5, 0.5)), geometry.eye_rotations(rig, (0.5, 0.5)), strict=True
    ):
        assert k_yaw - n_yaw == pytest.approx(side * math.radians(4))  # temporal: away from the nose
        assert k_pitch - n_pitch == pytest.approx(math.radians(1))


def test_projected_iris_moves_as_an_unmirrored_webcam_shows_it() -> None:
    """Screen right shows on image left (the webcam faces the person), screen bottom on image bottom."""
    rig = geometry.random_rig(np.random.default_rng(3))
    u = [geometry.project(rig.camera, geometry.iris_centres(rig, (tx, 0.5)))[:, 0] for tx in (0.0, 1.0)]
    v = [geometry.project(rig.camera, geometry.iris_centres(rig, (0.5, ty)))[:, 1] for ty in (0.0, 1.0)]
    assert np.all(u[1] < u[0] - 1) and np.all(v[1] > v[0] + 1)


def test_pixel_rays_invert_the_projection() -> None:
    rig = geometry.random_rig(np.random.default_rng(4))
    points = geometry.eyeball_centres(rig)
    pixels = geometry.project(rig.camera, points)
    rays = geometry.pixel_rays(rig.camera, pixels[:, 0], pixels[:, 1])
    toward = points - np.asarray(rig.camera.position)
    np.testing.assert_allclose(rays, toward / np.linalg.norm(toward, axis=1, keepdims=True), atol=1e-9)


def test_random_people_face_the_camera_inside_the_frame() -> None:
    rng = np.random.default_rng(5)
    ranges = geometry.TRAINING_RANGES
    for _ in range(50):
        rig = geometry.random_rig(rng)
        assert ranges.ipd[0] <= rig.eyes.ipd <= ranges.ipd[1]
        assert ranges.screen_width[0] <= rig.screen.width <= ranges.screen_width[1]
        eyes = geometry.project(rig.camera, geometry.eyeball_centres(rig))
        assert np.all((eyes > 10) & (eyes < [310, 230]))
        assert np.all(geometry.to_camera(rig.camera, geometry.eyeball_centres(rig))[:, 2] > 0.15)


# ---------------------------------------------------------------- renderers


@pytest.mark.parametrize("name", ALL)
def test_same_seed_same_frame(name: str) -> None:
    drawer = faces.RENDERERS[name]
    person = drawer.random_person(np.random.default_rng(8))
    first = drawer.render(person, (0.2, 0.7), np.random.default_rng(1))
    again = drawer.render(drawer.random_person(np.random.default_rng(8)), (0.2, 0.7), np.random.default_rng(1))
    other = drawer.render(drawer.random_person(np.random.default_rng(9)), (0.2, 0.7), np.random.default_rng(1))
    assert first.shape == (240, 320, 4) and first.dtype == np.uint8 and np.all(first[..., 3] == 255)
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)


def _eyes(name: str, person: object) -> list[tuple[int, int, int, int]]:
    """Each eye's centre and half width and height in the image, pixels (x, y, rx, ry)."""
    if name == "cartoon":
        assert isinstance(person, cartoon.Identity)
        half = person.face_width * person.eye_spacing / 2
        y = person.center_y + person.face_width * person.aspect * (person.eye_y - 0.5)
        r = person.face_width * person.eye_width / 2
        return [(round(person.center_x + side * half), round(y), round(r), round(r * person.eye_open)) for side in (-1, 1)]
    assert isinstance(person, vector_model.Person | raycast_model.Person | studio_model.Person)
    rig = person.rig
    depth = geometry.to_camera(rig.camera, geometry.eyeball_centres(rig))[:, 2]
    centres = geometry.project(rig.camera, geometry.eyeball_centres(rig))
    radii = rig.eyes.radius * rig.camera.focal / depth
    return [(round(x), round(y), round(1.5 * r), round(r)) for (x, y), r in zip(centres, radii, strict=True)]


def _with_green_irises(person: object) -> object:
    """A vector, raycast or studio person with pure green irises (each its own dataclass, so each replaced on its own)."""
    if isinstance(person, vector_model.Person):
        return replace(person, look=replace(person.look, iris=(0.0, 255.0, 0.0)))
    if isinstance(person, studio_model.Person):
        # JPEG keeps colour at half resolution, which smears a 3-pixel green iris into the lids: frames stay uncompressed.
        return replace(person, look=replace(person.look, iris=(0.0, 255.0, 0.0), jpeg_quality=0))
    assert isinstance(person, raycast_model.Person)
    return replace(person, look=replace(person.look, iris=(0.0, 255.0, 0.0)))


def _iris_positions(name: str, person: object, target: tuple[float, float]) -> np.ndarray:
    """Each eye's iris position (x, y) in the frame for target: the centroid of its dark part (cartoon) or of
    its colour, made pure green for the test (the others: light irises are not darker than lids)."""
    drawer = faces.RENDERERS[name]
    if name != "cartoon":
        person = _with_green_irises(person)
    bgr = cv2.cvtColor(drawer.render(person, target, np.random.default_rng(0)), cv2.COLOR_RGBA2BGR).astype(float)
    if name == "cartoon":
        weight = np.clip(70 - bgr.mean(axis=2), 0, None) ** 2  # pupil and iris, not lids
    else:
        weight = np.clip(bgr[..., 1] - np.maximum(bgr[..., 0], bgr[..., 2]) - 40, 0, None)
    ys, xs = np.mgrid[0 : weight.shape[0], 0 : weight.shape[1]]
    positions = []
    for x, y, rx, ry in _eyes(name, person):
        inside = (np.abs(xs - x) <= rx) & (np.abs(ys - y) <= ry)
        w = weight * inside
        assert w.sum() > 0, f"no iris near the eye at {(x, y)}"
        positions.append([(xs * w).sum() / w.sum(), (ys * w).sum() / w.sum()])
    return np.array(positions)


@pytest.mark.parametrize("name", ALL)
def test_iris_moves_toward_the_target_side(name: str) -> None:
    drawer = faces.RENDERERS[name]
    for seed in (21, 22, 23):
        person = drawer.random_person(np.random.default_rng(seed))
        if name == "cartoon":
            person = replace(person, tilt_deg=0.0)
        elif seed == 21:  # one upright head; the others keep their random pose
            person = replace(person, rig=replace(person.rig, head=replace(person.rig.head, yaw=0.0, pitch=0.0, roll=0.0)))
        left, right = _iris_positions(name, person, (0.2, 0.5)), _iris_positions(name, person, (0.8, 0.5))
        up, down = _iris_positions(name, person, (0.5, 0.2)), _iris_positions(name, person, (0.5, 0.8))
        # Screen right -> image left (an unmirrored webcam); screen bottom -> image bottom.
        assert np.all(right[:, 0] < left[:, 0] - 1), (seed, left, right)
        assert np.all(down[:, 1] > up[:, 1] + 0.5), (seed, up, down)


@pytest.mark.parametrize("name", ALL)
def test_the_cascade_finds_most_faces(name: str) -> None:
    drawer = faces.RENDERERS[name]
    rng = np.random.default_rng(31)
    frames = [
        drawer.render(drawer.jitter(drawer.random_person(rng), rng), (float(rng.uniform()), float(rng.uniform())), rng) for _ in range(24)
    ]
    targets = [(0.1, 0.2), (0.9, 0.8), (0.5, 0.5)]
    frames += [sample.frame for person in faces.unseen_people(name, 4) for sample in faces.person_frames(name, person, targets, 2, seed=2)]
    found = sum(process_frame(frame).face is not None for frame in frames)
    assert found >= 0.8 * len(frames), f"{name}: {found} of {len(frames)}"


def test_person_frames_label_every_frame_and_move_the_head() -> None:
    person = faces.RENDERERS["vector"].random_person(np.random.default_rng(2))
    frames = faces.person_frames("vector", person, [(0.1, 0.1), (0.9, 0.9)], 2, seed=4)
    assert [f.target for f in frames] == [(0.1, 0.1), (0.1, 0.1), (0.9, 0.9), (0.9, 0.9)]
    assert frames[0].identity.rig.head != frames[1].identity.rig.head
    np.testing.assert_array_equal(frames[0].frame, faces.person_frames("vector", person, [(0.1, 0.1)], 1, seed=4)[0].frame)


# ---------------------------------------------------------------- held-out people


def test_held_out_seeds_cannot_meet_a_training_seed() -> None:
    """The argument of faces.held_out_seed, checked piece by piece."""
    # Why the tag must not be first: numpy pads short entropy with zeros, so [s] and [s, 0, 0] are one sequence.
    np.testing.assert_array_equal(np.random.SeedSequence(7).pool, np.random.SeedSequence([7, 0, 0]).pool)
    training = {faces.training_seed(seed, chunk) for seed in range(20) for chunk in range(50)}
    assert all(0 <= s < 2**32 for s in training)  # one word of entropy: padded [s, 0, 0, 0]
    states = {tuple(np.random.default_rng(s).bit_generator.state["state"].values()) for s in training}
    held_out = set()
    for tag in (faces.HELD_OUT_TAG, faces.STRANGER_TAG):
        for name in ALL:
            for i in range(20):
                sequence = faces.held_out_seed(name, i, tag)
                words = np.asarray(sequence.entropy, dtype=object)
                assert len(words) == 3 and words[2] == tag != 0  # never [s, 0, 0, 0]
                state = np.random.default_rng(sequence).bit_generator.state["state"]
                assert tuple(state.values()) not in states
                # Nor the one-word sequence of its own first word.
                assert state != np.random.default_rng(int(words[0])).bit_generator.state["state"]
                held_out.add((tag, tuple(state.values())))
    # Strangers (fitted on after training) and the bench's held-out people never share a generator.
    assert len({state for _, state in held_out}) == len(held_out) == 2 * 20 * len(ALL)
    with pytest.raises(ValueError, match="nonzero"):
        faces.held_out_seed("cartoon", 0, tag=0)


@pytest.mark.slow  # renders every unseen person
def test_unseen_people_are_fixed_and_outside_the_training_ranges() -> None:
    ranges = geometry.TRAINING_RANGES
    for name in ("vector", "raycast", "studio"):
        people = faces.unseen_people(name, 6)
        assert people == faces.unseen_people(name, 6)
        for person in people:
            rig = person.rig
            assert not ranges.ipd[0] <= rig.eyes.ipd <= ranges.ipd[1]
            assert math.degrees(rig.eyes.kappa_h) > ranges.kappa_h_deg[1]
            assert geometry.FACE_WIDTH_M * rig.camera.focal / -rig.head.position[2] < ranges.face_px[0]
            assert abs(rig.camera.position[0]) > ranges.camera_offset
    for identity in faces.unseen_people("cartoon", 6):
        assert not 0.38 <= identity.eye_spacing <= 0.46 and not 0.30 * 320 <= identity.face_width <= 0.50 * 320


def test_registry_names_its_renderers_and_keeps_raycast_out_of_training() -> None:
    assert set(faces.RENDERERS) == {"cartoon", "vector", "raycast", "studio"}
    assert faces.RENDERER_NAMES == ("cartoon", "vector", "raycast", "studio")  # held_out_seed numbers them in this order
    assert faces.TRAINING_RENDERERS == ("cartoon", "vector") and faces.HELD_OUT_RENDERERS == ("raycast", "studio")
    with pytest.raises(ValueError, match=r"'raycast'.*'studio'.*'nope'"):
        faces.check_training_renderers(("cartoon", "raycast", "studio", "nope"))
    assert faces.renderer_problems(["studio"]) == ["'studio' is held out for testing and never trained on"]


@pytest.mark.slow  # renders every unseen person
def test_studio_people_vary_as_promised() -> None:
    """Glasses on some, turned heads, both face shapes and light and dark skin among the people accuracy is measured on."""
    people = faces.unseen_people("studio", 12)
    glasses = [bool(person.look.glasses) for person in people]
    assert any(glasses) and not all(glasses), glasses
    turns = [abs(math.degrees(person.rig.head.yaw - studio_model.facing_yaw(person.rig))) for person in people]
    assert any(10 <= turn <= 20 for turn in turns) and min(turns) < 10, turns
    aspects = [person.look.head_axes[1] / person.look.head_axes[0] for person in people]
    assert min(aspects) < studio_model.FACE_ASPECTS[0][1] + 1e-9 and max(aspects) > studio_model.FACE_ASPECTS[1][0] - 1e-9, aspects
    levels = [float(np.mean(person.look.skin)) for person in people]
    middle = float(np.mean(looks.SKIN_LEVEL_RANGE))
    assert min(levels) < middle < max(levels), levels


def _face_halves(frame: np.ndarray, person: studio_model.Person) -> tuple[float, float]:
    """Mean grey of the face's left and right halves in the image (between and below the eyes, out to the cheeks)."""
    grey = cv2.cvtColor(frame, cv2.COLOR_RGBA2GRAY).astype(float)
    eyes = geometry.project(person.rig.camera, geometry.eyeball_centres(person.rig))
    middle, spacing, top = float(eyes[:, 0].mean()), float(abs(eyes[1, 0] - eyes[0, 0])), round(float(eyes[:, 1].mean()))
    rows = slice(top, top + round(spacing))
    left = grey[rows, round(middle - spacing) : round(middle)].mean()
    right = grey[rows, round(middle) : round(middle + spacing)].mean()
    return float(left), float(right)


def test_studio_light_from_the_side_brightens_one_half_of_the_face() -> None:
    """A light on the person's right lights the image's left half (an unmirrored webcam), and the reverse."""
    drawer = faces.RENDERERS["studio"]
    person = drawer.random_person(np.random.default_rng(40))
    rig = person.rig
    rig = replace(rig, head=replace(rig.head, yaw=studio_model.facing_yaw(rig), pitch=0.0, roll=0.0))
    look = replace(person.look, glasses="", key=0.8, fill=0.3, light_angle=math.radians(60), jpeg_quality=0)
    halves = {}
    for side in (1.0, -1.0):
        lit = replace(person, rig=rig, look=replace(look, light_side=side))
        halves[side] = _face_halves(drawer.render(lit, (0.5, 0.5), np.random.default_rng(0)), lit)
    assert halves[1.0][0] > 1.2 * halves[1.0][1], halves
    assert halves[-1.0][1] > 1.2 * halves[-1.0][0], halves


# ---------------------------------------------------------------- augmentation


def test_augmentation_is_deterministic_and_keeps_the_frame_format() -> None:
    frame = faces.RENDERERS["vector"].render(
        faces.RENDERERS["vector"].random_person(np.random.default_rng(1)), (0.5, 0.5), np.random.default_rng(1)
    )
    outputs = [augment.augment(frame, np.random.default_rng(seed)) for seed in (3, 3, 4)]
    for out in outputs:
        assert out.shape == frame.shape and out.dtype == np.uint8 and np.all(out[..., 3] == 255)
    np.testing.assert_array_equal(outputs[0], outputs[1])
    assert not np.array_equal(outputs[0], outputs[2]) and not np.array_equal(outputs[0], frame)
    # Every step runs: a draw with all of them on still gives a face-sized, changed frame.
    harsh = augment.Degradation(0.5, 1.2, 0.03, 1.5, 0.8, 0.1, (1.1, 1.0, 0.9), 0.4, 30)
    assert np.abs(augment.apply(frame, harsh, np.random.default_rng(0)).astype(int) - frame).mean() > 5
