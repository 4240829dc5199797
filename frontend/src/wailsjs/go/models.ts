export namespace app {
	
	export class ActiveVisit {
	    visit: string;
	    patient: string;
	    name: string;
	    region: string;
	    reason: string;
	    started: number;
	
	    static createFrom(source: any = {}) {
	        return new ActiveVisit(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.visit = source["visit"];
	        this.patient = source["patient"];
	        this.name = source["name"];
	        this.region = source["region"];
	        this.reason = source["reason"];
	        this.started = source["started"];
	    }
	}
	export class Observation {
	    id: string;
	    kind: string;
	    value: number;
	    unit: string;
	    recordedBy: string;
	    recordedByName: string;
	    recordedAt: number;
	
	    static createFrom(source: any = {}) {
	        return new Observation(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.id = source["id"];
	        this.kind = source["kind"];
	        this.value = source["value"];
	        this.unit = source["unit"];
	        this.recordedBy = source["recordedBy"];
	        this.recordedByName = source["recordedByName"];
	        this.recordedAt = source["recordedAt"];
	    }
	}
	export class Note {
	    id: string;
	    author: string;
	    authorName: string;
	    body: string;
	    updatedAt: number;
	    conflicts: number;
	
	    static createFrom(source: any = {}) {
	        return new Note(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.id = source["id"];
	        this.author = source["author"];
	        this.authorName = source["authorName"];
	        this.body = source["body"];
	        this.updatedAt = source["updatedAt"];
	        this.conflicts = source["conflicts"];
	    }
	}
	export class PastVisit {
	    id: string;
	    status: string;
	    region: string;
	    reason: string;
	    provider: string;
	    providerName: string;
	    requestedAt: number;
	    startedAt: number;
	    endedAt: number;
	    endReason: string;
	    notes: Note[];
	    observations: Observation[];
	
	    static createFrom(source: any = {}) {
	        return new PastVisit(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.id = source["id"];
	        this.status = source["status"];
	        this.region = source["region"];
	        this.reason = source["reason"];
	        this.provider = source["provider"];
	        this.providerName = source["providerName"];
	        this.requestedAt = source["requestedAt"];
	        this.startedAt = source["startedAt"];
	        this.endedAt = source["endedAt"];
	        this.endReason = source["endReason"];
	        this.notes = this.convertValues(source["notes"], Note);
	        this.observations = this.convertValues(source["observations"], Observation);
	    }
	
		convertValues(a: any, classs: any, asMap: boolean = false): any {
		    if (!a) {
		        return a;
		    }
		    if (a.slice && a.map) {
		        return (a as any[]).map(elem => this.convertValues(elem, classs));
		    } else if ("object" === typeof a) {
		        if (asMap) {
		            for (const key of Object.keys(a)) {
		                a[key] = new classs(a[key]);
		            }
		            return a;
		        }
		        return new classs(a);
		    }
		    return a;
		}
	}
	export class Patient {
	    id: string;
	    givenName: string;
	    familyName: string;
	    birthDate: string;
	    phone: string;
	    email: string;
	    region: string;
	
	    static createFrom(source: any = {}) {
	        return new Patient(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.id = source["id"];
	        this.givenName = source["givenName"];
	        this.familyName = source["familyName"];
	        this.birthDate = source["birthDate"];
	        this.phone = source["phone"];
	        this.email = source["email"];
	        this.region = source["region"];
	    }
	}
	export class ChartView {
	    patient: Patient;
	    visits: PastVisit[];
	
	    static createFrom(source: any = {}) {
	        return new ChartView(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.patient = this.convertValues(source["patient"], Patient);
	        this.visits = this.convertValues(source["visits"], PastVisit);
	    }
	
		convertValues(a: any, classs: any, asMap: boolean = false): any {
		    if (!a) {
		        return a;
		    }
		    if (a.slice && a.map) {
		        return (a as any[]).map(elem => this.convertValues(elem, classs));
		    } else if ("object" === typeof a) {
		        if (asMap) {
		            for (const key of Object.keys(a)) {
		                a[key] = new classs(a[key]);
		            }
		            return a;
		        }
		        return new classs(a);
		    }
		    return a;
		}
	}
	export class ChatMessage {
	    id: string;
	    sender: string;
	    senderName: string;
	    senderRole: string;
	    body: string;
	    sentAt: number;
	    mine: boolean;
	
	    static createFrom(source: any = {}) {
	        return new ChatMessage(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.id = source["id"];
	        this.sender = source["sender"];
	        this.senderName = source["senderName"];
	        this.senderRole = source["senderRole"];
	        this.body = source["body"];
	        this.sentAt = source["sentAt"];
	        this.mine = source["mine"];
	    }
	}
	export class Conversation {
	    visit: string;
	    patient: string;
	    name: string;
	    region: string;
	    status: string;
	    last: string;
	    lastAt: number;
	    lastFrom: string;
	    unread: number;
	
	    static createFrom(source: any = {}) {
	        return new Conversation(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.visit = source["visit"];
	        this.patient = source["patient"];
	        this.name = source["name"];
	        this.region = source["region"];
	        this.status = source["status"];
	        this.last = source["last"];
	        this.lastAt = source["lastAt"];
	        this.lastFrom = source["lastFrom"];
	        this.unread = source["unread"];
	    }
	}
	export class RefusedChange {
	    table: string;
	    row: string;
	    code: string;
	    message: string;
	    at: number;
	
	    static createFrom(source: any = {}) {
	        return new RefusedChange(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.table = source["table"];
	        this.row = source["row"];
	        this.code = source["code"];
	        this.message = source["message"];
	        this.at = source["at"];
	    }
	}
	export class NoteVersion {
	    body: string;
	    author: string;
	    authorName: string;
	    at: number;
	    version: string;
	    here: boolean;
	
	    static createFrom(source: any = {}) {
	        return new NoteVersion(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.body = source["body"];
	        this.author = source["author"];
	        this.authorName = source["authorName"];
	        this.at = source["at"];
	        this.version = source["version"];
	        this.here = source["here"];
	    }
	}
	export class NoteConflict {
	    note: string;
	    visit: string;
	    patient: string;
	    name: string;
	    current: NoteVersion;
	    other: NoteVersion;
	    versions: number;
	
	    static createFrom(source: any = {}) {
	        return new NoteConflict(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.note = source["note"];
	        this.visit = source["visit"];
	        this.patient = source["patient"];
	        this.name = source["name"];
	        this.current = this.convertValues(source["current"], NoteVersion);
	        this.other = this.convertValues(source["other"], NoteVersion);
	        this.versions = source["versions"];
	    }
	
		convertValues(a: any, classs: any, asMap: boolean = false): any {
		    if (!a) {
		        return a;
		    }
		    if (a.slice && a.map) {
		        return (a as any[]).map(elem => this.convertValues(elem, classs));
		    } else if ("object" === typeof a) {
		        if (asMap) {
		            for (const key of Object.keys(a)) {
		                a[key] = new classs(a[key]);
		            }
		            return a;
		        }
		        return new classs(a);
		    }
		    return a;
		}
	}
	export class InboxView {
	    conflicts: NoteConflict[];
	    refused: RefusedChange[];
	
	    static createFrom(source: any = {}) {
	        return new InboxView(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.conflicts = this.convertValues(source["conflicts"], NoteConflict);
	        this.refused = this.convertValues(source["refused"], RefusedChange);
	    }
	
		convertValues(a: any, classs: any, asMap: boolean = false): any {
		    if (!a) {
		        return a;
		    }
		    if (a.slice && a.map) {
		        return (a as any[]).map(elem => this.convertValues(elem, classs));
		    } else if ("object" === typeof a) {
		        if (asMap) {
		            for (const key of Object.keys(a)) {
		                a[key] = new classs(a[key]);
		            }
		            return a;
		        }
		        return new classs(a);
		    }
		    return a;
		}
	}
	
	
	
	
	export class ObservationKind {
	    name: string;
	    unit: string;
	    min: number;
	    max: number;
	
	    static createFrom(source: any = {}) {
	        return new ObservationKind(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.name = source["name"];
	        this.unit = source["unit"];
	        this.min = source["min"];
	        this.max = source["max"];
	    }
	}
	
	
	export class QueuePatient {
	    visit: string;
	    patient: string;
	    name: string;
	    birthDate: string;
	    region: string;
	    reason: string;
	    since: number;
	    position: number;
	    estimateMs: number;
	    notice: string;
	    unread: number;
	
	    static createFrom(source: any = {}) {
	        return new QueuePatient(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.visit = source["visit"];
	        this.patient = source["patient"];
	        this.name = source["name"];
	        this.birthDate = source["birthDate"];
	        this.region = source["region"];
	        this.reason = source["reason"];
	        this.since = source["since"];
	        this.position = source["position"];
	        this.estimateMs = source["estimateMs"];
	        this.notice = source["notice"];
	        this.unread = source["unread"];
	    }
	}
	export class RegionQueue {
	    code: string;
	    name: string;
	    mode: string;
	    open: boolean;
	    licensed: number;
	    patients: QueuePatient[];
	
	    static createFrom(source: any = {}) {
	        return new RegionQueue(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.code = source["code"];
	        this.name = source["name"];
	        this.mode = source["mode"];
	        this.open = source["open"];
	        this.licensed = source["licensed"];
	        this.patients = this.convertValues(source["patients"], QueuePatient);
	    }
	
		convertValues(a: any, classs: any, asMap: boolean = false): any {
		    if (!a) {
		        return a;
		    }
		    if (a.slice && a.map) {
		        return (a as any[]).map(elem => this.convertValues(elem, classs));
		    } else if ("object" === typeof a) {
		        if (asMap) {
		            for (const key of Object.keys(a)) {
		                a[key] = new classs(a[key]);
		            }
		            return a;
		        }
		        return new classs(a);
		    }
		    return a;
		}
	}
	export class QueueView {
	    regions: RegionQueue[];
	    mine: ActiveVisit[];
	    canClaim: boolean;
	    claimBlocked: string;
	    onShift: boolean;
	    asOf: number;
	
	    static createFrom(source: any = {}) {
	        return new QueueView(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.regions = this.convertValues(source["regions"], RegionQueue);
	        this.mine = this.convertValues(source["mine"], ActiveVisit);
	        this.canClaim = source["canClaim"];
	        this.claimBlocked = source["claimBlocked"];
	        this.onShift = source["onShift"];
	        this.asOf = source["asOf"];
	    }
	
		convertValues(a: any, classs: any, asMap: boolean = false): any {
		    if (!a) {
		        return a;
		    }
		    if (a.slice && a.map) {
		        return (a as any[]).map(elem => this.convertValues(elem, classs));
		    } else if ("object" === typeof a) {
		        if (asMap) {
		            for (const key of Object.keys(a)) {
		                a[key] = new classs(a[key]);
		            }
		            return a;
		        }
		        return new classs(a);
		    }
		    return a;
		}
	}
	
	
	export class RegionSettings {
	    code: string;
	    name: string;
	    mode: string;
	    busyLimit: number;
	    hours: string;
	    timeZone: string;
	    message: string;
	    open: boolean;
	    admission: string;
	    waiting: number;
	    licensed: number;
	    updatedBy: string;
	    updatedByName: string;
	    updatedAt: number;
	    canEdit: boolean;
	
	    static createFrom(source: any = {}) {
	        return new RegionSettings(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.code = source["code"];
	        this.name = source["name"];
	        this.mode = source["mode"];
	        this.busyLimit = source["busyLimit"];
	        this.hours = source["hours"];
	        this.timeZone = source["timeZone"];
	        this.message = source["message"];
	        this.open = source["open"];
	        this.admission = source["admission"];
	        this.waiting = source["waiting"];
	        this.licensed = source["licensed"];
	        this.updatedBy = source["updatedBy"];
	        this.updatedByName = source["updatedByName"];
	        this.updatedAt = source["updatedAt"];
	        this.canEdit = source["canEdit"];
	    }
	}
	export class SessionState {
	    signedIn: boolean;
	    locked: boolean;
	    server: string;
	    clinic: string;
	    user: string;
	    name: string;
	    role: string;
	    lockAfterSec: number;
	    problem: string;
	
	    static createFrom(source: any = {}) {
	        return new SessionState(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.signedIn = source["signedIn"];
	        this.locked = source["locked"];
	        this.server = source["server"];
	        this.clinic = source["clinic"];
	        this.user = source["user"];
	        this.name = source["name"];
	        this.role = source["role"];
	        this.lockAfterSec = source["lockAfterSec"];
	        this.problem = source["problem"];
	    }
	}
	export class Settings {
	    server: string;
	    clinic: string;
	    lockAfterSec: number;
	
	    static createFrom(source: any = {}) {
	        return new Settings(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.server = source["server"];
	        this.clinic = source["clinic"];
	        this.lockAfterSec = source["lockAfterSec"];
	    }
	}
	export class SyncStatus {
	    online: boolean;
	    catchingUp: boolean;
	    progress: number;
	    pending: number;
	    lastSync: number;
	    error: string;
	    rejected: number;
	    conflicts: number;
	
	    static createFrom(source: any = {}) {
	        return new SyncStatus(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.online = source["online"];
	        this.catchingUp = source["catchingUp"];
	        this.progress = source["progress"];
	        this.pending = source["pending"];
	        this.lastSync = source["lastSync"];
	        this.error = source["error"];
	        this.rejected = source["rejected"];
	        this.conflicts = source["conflicts"];
	    }
	}
	export class VisitView {
	    visit: PastVisit;
	    patient: Patient;
	    chat: ChatMessage[];
	    myNote: Note;
	    kinds: ObservationKind[];
	    canEnd: boolean;
	    canRelease: boolean;
	    releaseBlock: string;
	
	    static createFrom(source: any = {}) {
	        return new VisitView(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.visit = this.convertValues(source["visit"], PastVisit);
	        this.patient = this.convertValues(source["patient"], Patient);
	        this.chat = this.convertValues(source["chat"], ChatMessage);
	        this.myNote = this.convertValues(source["myNote"], Note);
	        this.kinds = this.convertValues(source["kinds"], ObservationKind);
	        this.canEnd = source["canEnd"];
	        this.canRelease = source["canRelease"];
	        this.releaseBlock = source["releaseBlock"];
	    }
	
		convertValues(a: any, classs: any, asMap: boolean = false): any {
		    if (!a) {
		        return a;
		    }
		    if (a.slice && a.map) {
		        return (a as any[]).map(elem => this.convertValues(elem, classs));
		    } else if ("object" === typeof a) {
		        if (asMap) {
		            for (const key of Object.keys(a)) {
		                a[key] = new classs(a[key]);
		            }
		            return a;
		        }
		        return new classs(a);
		    }
		    return a;
		}
	}

}

