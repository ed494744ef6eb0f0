// A stand-in for the WebRTC API, for signalling tests only: offers and answers are SDP-shaped
// text that names the peer connection that made them; no connection is ever established.
// Real WebRTC transfers are tested in headless Chromium.

let nextId = 1;

class FakeDataChannel {
  constructor(label) {
    this.label = label;
    this.binaryType = "arraybuffer";
    this.bufferedAmount = 0;
    this.bufferedAmountLowThreshold = 0;
    this.readyState = "connecting";
    this.onopen = null;
    this.onclose = null;
    this.onerror = null;
    this.onmessage = null;
    this.onbufferedamountlow = null;
  }
  send() {
    throw new Error("fake WebRTC: data channels carry nothing");
  }
  close() {
    this.readyState = "closed";
  }
}

export class RTCSessionDescription {
  constructor(init = {}) {
    this.type = init.type;
    this.sdp = init.sdp;
  }
  toJSON() {
    return { type: this.type, sdp: this.sdp };
  }
}

export class RTCIceCandidate {
  constructor(init = {}) {
    this.candidate = init.candidate ?? "";
    this.sdpMid = init.sdpMid ?? null;
    this.sdpMLineIndex = init.sdpMLineIndex ?? null;
  }
}

export class RTCPeerConnection {
  constructor(config) {
    this.id = nextId++;
    this.config = config;
    this.localDescription = null;
    this.remoteDescription = null;
    this.signalingState = "stable";
    this.iceConnectionState = "new";
    this.iceGatheringState = "new";
    this.connectionState = "new";
    this.onicecandidate = null;
    this.oniceconnectionstatechange = null;
    this.onicegatheringstatechange = null;
    this.onconnectionstatechange = null;
    this.onsignalingstatechange = null;
    this.ondatachannel = null;
    this.ontrack = null;
  }
  sdp(type) {
    return `v=0\r\no=- ${this.id} 0 IN IP4 127.0.0.1\r\ns=fake-${type}-${this.id}\r\nt=0 0\r\n`;
  }
  createDataChannel(label) {
    return new FakeDataChannel(label);
  }
  async createOffer() {
    return { type: "offer", sdp: this.sdp("offer") };
  }
  async createAnswer() {
    return { type: "answer", sdp: this.sdp("answer") };
  }
  async setLocalDescription(desc) {
    this.localDescription = new RTCSessionDescription(desc);
    this.signalingState = desc.type === "offer" ? "have-local-offer" : "stable";
    // Gathering "completes" at once with no candidates: a null candidate ends it.
    setTimeout(() => {
      this.iceGatheringState = "complete";
      this.onicegatheringstatechange?.();
      this.onicecandidate?.({ candidate: null });
    }, 0);
  }
  async setRemoteDescription(desc) {
    this.remoteDescription = new RTCSessionDescription(desc);
    this.signalingState = desc.type === "offer" ? "have-remote-offer" : "stable";
  }
  async addIceCandidate() {}
  async getStats() {
    return new Map();
  }
  getSenders() {
    return [];
  }
  close() {
    this.signalingState = "closed";
    this.connectionState = "closed";
  }
}

export default { RTCPeerConnection, RTCSessionDescription, RTCIceCandidate };
